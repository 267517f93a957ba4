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

// TestActorsUseTheFacade keeps the control plane on the data plane's one
// facade: actors add ports, publish routes and services through package
// reactor, never by building inboxes, route tables or sockets themselves.
func TestActorsUseTheFacade(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "mvirt-net/actors/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, dep := range strings.Fields(imports) {
			if strings.HasPrefix(dep, "mvirt-net/reactor/") {
				t.Errorf("%s imports %s; actors may import only mvirt-net/reactor", pkg, dep)
			}
		}
	}
}
