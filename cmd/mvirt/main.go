// Command mvirt is the command line client of the mvirt-net daemon: it
// creates, shows, changes and deletes networks and vNICs over gRPC.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
