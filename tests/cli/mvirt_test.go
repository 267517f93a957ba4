package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// result is what one run of the mvirt binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// runMvirt runs the mvirt binary with extra environment variables; the
// daemon's address comes from MVIRT_NET_SERVER unless env overrides it.
func runMvirt(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(mvirtBin, args...)
	cmd.Env = append(append(os.Environ(), "MVIRT_NET_SERVER="+mvirtd.Addr), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run mvirt %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// mvirt runs mvirt and fails the test unless it succeeds quietly; it
// returns stdout.
func mvirt(t *testing.T, args ...string) string {
	t.Helper()
	r := runMvirt(t, nil, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("mvirt %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// mvirtJSON runs mvirt with -o json and decodes its answer into msg.
func mvirtJSON(t *testing.T, msg proto.Message, args ...string) {
	t.Helper()
	out := mvirt(t, append(args, "-o", "json")...)
	if err := protojson.Unmarshal([]byte(out), msg); err != nil {
		t.Fatalf("mvirt %s -o json: decode %T: %v\n%s", strings.Join(args, " "), msg, err, out)
	}
}

// decodeJSON decodes output of mvirt into v with encoding/json, to look at
// the output as any JSON consumer would.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, out)
	}
}

// mvirtFails runs mvirt, expects exit status code and a one-line error on
// stderr in the form "Error: <message>", and returns the message.
func mvirtFails(t *testing.T, code int, args ...string) string {
	t.Helper()
	r := runMvirt(t, nil, args...)
	if r.code != code {
		t.Fatalf("mvirt %s: exit %d, want %d; stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return errorMessage(t, r)
}

// errorMessage checks that a failed run printed nothing on stdout and the
// message alone, not a Go-formatted gRPC status, on stderr.
func errorMessage(t *testing.T, r result) string {
	t.Helper()
	if r.stdout != "" {
		t.Errorf("failed run printed on stdout:\n%s", r.stdout)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	msg, ok := strings.CutPrefix(first, "Error: ")
	if !ok || msg == "" {
		t.Fatalf("stderr does not start with \"Error: <message>\":\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "rpc error: code =") {
		t.Errorf("stderr shows the Go formatting of a gRPC status:\n%s", r.stderr)
	}
	return msg
}

// wantContains fails the test unless s contains every one of subs, ignoring case.
func wantContains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(strings.ToLower(s), strings.ToLower(sub)) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}

// headerCell is one column title of a table: words joined by single
// spaces, since tabwriter pads columns with at least two.
var headerCell = regexp.MustCompile(`\S+( \S+)*`)

// tableRow finds the row of a table whose first cell is key and returns its
// cells by column header. Cells are read at the offsets of the header's
// columns, so the test also checks that the columns are aligned.
func tableRow(t *testing.T, table, key string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	header := lines[0]
	cols := headerCell.FindAllStringIndex(header, -1)
	for _, line := range lines[1:] {
		if !strings.HasPrefix(line, key+" ") {
			continue
		}
		cells := map[string]string{}
		for i, c := range cols {
			end := len(line)
			if i+1 < len(cols) {
				end = min(cols[i+1][0], len(line))
			}
			if c[0] >= len(line) {
				t.Fatalf("row %q is shorter than its header %q", line, header)
			}
			if line[c[0]] == ' ' || (c[0] > 0 && line[c[0]-1] != ' ') {
				t.Fatalf("row %q is not aligned with header %q", line, header)
			}
			cells[header[c[0]:c[1]]] = strings.TrimSpace(line[c[0]:end])
		}
		return cells
	}
	t.Fatalf("no row for %q in table:\n%s", key, table)
	return nil
}

// detailField returns the value of "Label:  value" in a detail view.
func detailField(t *testing.T, view, label string) string {
	t.Helper()
	for _, line := range strings.Split(view, "\n") {
		if v, ok := strings.CutPrefix(line, label+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no field %q in:\n%s", label, view)
	return ""
}

// addr parses an address the daemon returns, with or without its /32 or /128.
func addr(t *testing.T, s string) netip.Addr {
	t.Helper()
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr()
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("daemon returned %q, not an address", s)
	}
	return a
}
