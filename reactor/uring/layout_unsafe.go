package uring

import "unsafe"

// Compile-time checks that the Go structs match the kernel ABI sizes: each
// array length below is negative, and the build fails, if a size is off.
var (
	_ [unsafe.Sizeof(SubmissionQueueEntry{}) - 64]byte
	_ [64 - unsafe.Sizeof(SubmissionQueueEntry{})]byte
	_ [unsafe.Sizeof(CompletionQueueEvent{}) - 16]byte
	_ [16 - unsafe.Sizeof(CompletionQueueEvent{})]byte
	_ [unsafe.Sizeof(Timespec{}) - 16]byte
	_ [16 - unsafe.Sizeof(Timespec{})]byte
	_ [unsafe.Sizeof(params{}) - 120]byte
	_ [120 - unsafe.Sizeof(params{})]byte
	_ [unsafe.Sizeof(getEventsArg{}) - 24]byte
	_ [24 - unsafe.Sizeof(getEventsArg{})]byte
)
