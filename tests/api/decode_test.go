package api_test

import (
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// rawCodec sends and receives a message's bytes as they are, so a test can
// put anything on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec marshals *[]byte, not %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec unmarshals into *[]byte, not %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// stringField encodes field num as a length-delimited value holding b.
func stringField(num protowire.Number, b []byte) []byte {
	out := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(out, b)
}

// TestUndecodableRequests sends bytes that are no valid request, over the
// real listener: each answers InvalidArgument, and nothing changes.
func TestUndecodableRequests(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	before := snapshot(t, c)
	badUTF8 := []byte{'v', 'm', 0xff, 0xfe}

	createNet := "/" + netpb.NetService_ServiceDesc.ServiceName + "/CreateNetwork"
	createNic := "/" + netpb.NetService_ServiceDesc.ServiceName + "/CreateNic"
	cases := []struct {
		name, method string
		body         []byte
	}{
		{"garbage", createNet, []byte{0xff, 0xff, 0xff, 0xff, 0xff}},
		{"truncated length", createNet, []byte{0x0a, 0x40, 'x'}},
		{"unterminated varint", createNet, []byte{0x10, 0x80, 0x80, 0x80}},
		{"wire type of a group end", createNet, []byte{0x0c}},
		{"network name not UTF-8", createNet, append(stringField(1, badUTF8), 0x10, 0x01, 0x1a, 0x0b, '1', '0', '.', '9', '.', '0', '.', '0', '/', '2', '4')},
		{"dns server not UTF-8", createNet, stringField(6, badUTF8)},
		{"nic name not UTF-8", createNic, append(stringField(1, []byte(n.Id)), stringField(2, badUTF8)...)},
		{"nic network not UTF-8", createNic, stringField(1, badUTF8)},
		{"routed prefix not UTF-8", createNic, append(stringField(1, []byte(n.Id)), stringField(6, badUTF8)...)},
		{"health check garbage", "/grpc.health.v1.Health/Check", []byte{0xff, 0x01}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			err := d.Conn.Invoke(ctx(t), tc.method, &tc.body, &out, grpc.ForceCodec(rawCodec{}))
			wantCode(t, err, codes.InvalidArgument)
		})
	}
	t.Run("reflection stream garbage", func(t *testing.T) {
		desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
		s, err := d.Conn.NewStream(ctx(t), desc, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", grpc.ForceCodec(rawCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		body := stringField(7, badUTF8)
		if err := s.SendMsg(&body); err != nil {
			t.Fatal(err)
		}
		var out []byte
		wantCode(t, s.RecvMsg(&out), codes.InvalidArgument)
	})
	t.Run("valid bytes still work", func(t *testing.T) {
		body, err := proto.Marshal(&netpb.CreateNetworkRequest{Name: "raw", Ipv4Enabled: true, Ipv4Subnet: "10.9.0.0/24"})
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		if err := d.Conn.Invoke(ctx(t), createNet, &body, &out, grpc.ForceCodec(rawCodec{})); err != nil {
			t.Fatalf("valid raw request: %v", err)
		}
		got := &netpb.Network{}
		if err := proto.Unmarshal(out, got); err != nil || got.Name != "raw" {
			t.Fatalf("answer %v: %v", got, err)
		}
		if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: got.Id}); err != nil {
			t.Fatal(err)
		}
	})
	if after := snapshot(t, c); !protoEqual(before, after) {
		t.Fatalf("undecodable requests changed state:\nbefore %v %v\nafter  %v %v", before.nets, before.nics, after.nets, after.nics)
	}
	if _, err := c.GetVersion(ctx(t), &netpb.GetVersionRequest{}); err != nil {
		t.Fatalf("daemon unwell after bad requests: %v", err)
	}
}
