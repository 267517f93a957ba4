package reactor_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the data plane free of the control plane:
// actors hand reactors what they need, never the other way round.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "mvirt-net/reactor/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"mvirt-net/actors", "mvirt-net/rpc", "mvirt-net/persistence", "mvirt-net/cmd", "mvirt-net/tests"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("the reactor depends on %s", dep)
			}
		}
	}
}
