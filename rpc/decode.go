package rpc

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// grpc decodes a request itself and answers Internal when its bytes do not
// decode (garbage, or a string field that is not UTF-8). Bad input must
// answer InvalidArgument, so the server's codec hands a request's bytes
// over undecoded (as a rawRequest) and every registered handler decodes
// them itself, through guard.

// rawRequest is a request's bytes as they came off the wire.
type rawRequest []byte

// codec is grpc's protobuf codec, except that it copies the bytes of a
// message received into a *rawRequest instead of decoding them.
type codec struct{ encoding.CodecV2 }

// newCodec returns the server's codec.
func newCodec() codec { return codec{encoding.GetCodecV2(protocodec.Name)} }

// Unmarshal copies data into a *rawRequest, or decodes it into v.
func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if raw, ok := v.(*rawRequest); ok {
		*raw = data.Materialize()
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// decode receives a request's bytes through recv and decodes them into v;
// bytes that do not decode are InvalidArgument.
func decode(recv func(any) error, v any) error {
	var raw rawRequest
	if err := recv(&raw); err != nil {
		return err
	}
	m, ok := v.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "request type %T is not a protobuf message", v)
	}
	if err := proto.Unmarshal(raw, m); err != nil {
		return status.Errorf(codes.InvalidArgument, "request is not a valid %s: %v", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// guard returns a copy of sd whose handlers receive requests through
// decode.
func guard(sd *grpc.ServiceDesc) *grpc.ServiceDesc {
	out := *sd
	out.Methods = make([]grpc.MethodDesc, len(sd.Methods))
	for i, md := range sd.Methods {
		h := md.Handler
		md.Handler = func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, func(v any) error { return decode(dec, v) }, ic)
		}
		out.Methods[i] = md
	}
	out.Streams = make([]grpc.StreamDesc, len(sd.Streams))
	for i, st := range sd.Streams {
		h := st.Handler
		st.Handler = func(srv any, ss grpc.ServerStream) error { return h(srv, guardedStream{ss}) }
		out.Streams[i] = st
	}
	return &out
}

// guardedStream receives a stream's requests through decode.
type guardedStream struct{ grpc.ServerStream }

// RecvMsg receives and decodes the next request into v.
func (s guardedStream) RecvMsg(v any) error { return decode(s.ServerStream.RecvMsg, v) }

// guardedServer registers every service on a grpc.Server through guard;
// since the server's codec leaves requests undecoded, every service must
// be registered through it.
type guardedServer struct{ *grpc.Server }

// RegisterService registers a guarded copy of sd.
func (s guardedServer) RegisterService(sd *grpc.ServiceDesc, impl any) {
	s.Server.RegisterService(guard(sd), impl)
}
