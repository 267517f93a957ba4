package main

import (
	"fmt"
	"io"
	"strings"
)

// lineWriter writes a stream of table lines as they come: a tab-aligned
// table cannot wait for its last row, so cells are padded to fixed widths
// instead (a UUID's 36 characters for id columns).
type lineWriter struct{ out io.Writer }

func newLineWriter(out io.Writer) lineWriter { return lineWriter{out: out} }

// line writes one line; tabs separate its cells.
func (w lineWriter) line(s string) error {
	cells := strings.Split(s, "\t")
	for i, c := range cells[:len(cells)-1] {
		cells[i] = fmt.Sprintf("%-*s", cellWidth(i), c)
	}
	if _, err := fmt.Fprintln(w.out, strings.TrimRight(strings.Join(cells, "  "), " ")); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// cellWidth is the width of column i of a watch line: time, event, id,
// then names and addresses.
func cellWidth(i int) int {
	switch i {
	case 0:
		return 20
	case 1:
		return 7
	case 2:
		return 36
	}
	return 16
}
