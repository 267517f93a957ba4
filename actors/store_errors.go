package actors

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
)

// storeFailed turns an error of the store into the RPC's answer: a full
// metadata disk is ResourceExhausted (nothing was changed), anything else
// Internal. what says what was being written.
func storeFailed(what string, err error) error {
	if errors.Is(err, persistence.ErrNoSpace) {
		return status.Errorf(codes.ResourceExhausted, "%s: %v", what, err)
	}
	return status.Errorf(codes.Internal, "%s: %v", what, err)
}
