// Package guestmem maps a VM's memory regions, as a vhost-user frontend
// hands them over (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG), into the
// daemon and translates guest addresses to host byte slices.
//
// A Table owns the mappings. Translation returns views into them: the
// views are borrowed, never copied, and stay valid only until the region
// they point into is removed or the Table is closed. Whoever changes the
// table (the reactor, on a vhost-user memory message) must first stop
// every user of old views, for example by re-running virtq Setup.
//
// A frontend can still shrink its memory file after we mapped it; touching
// the lost pages then raises SIGBUS. Goroutines that read guest memory
// should run with runtime/debug.SetPanicOnFault(true) so that such a fault
// becomes a recoverable panic instead of a crash.
package guestmem
