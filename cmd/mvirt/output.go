package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Values of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// jsonFormat writes messages with the field names of the proto and every
// field present, so that scripts can rely on the keys.
var jsonFormat = protojson.MarshalOptions{
	Multiline:       true,
	Indent:          "  ",
	UseProtoNames:   true,
	EmitUnpopulated: true,
}

// printer writes an answer of the daemon as JSON or as aligned text.
type printer struct {
	out  io.Writer
	json bool
}

// show prints msg as JSON, or calls table with a tab-aligned writer.
func (p printer) show(msg proto.Message, table func(w io.Writer)) error {
	if p.json {
		b, err := jsonFormat.Marshal(msg)
		if err != nil {
			return fmt.Errorf("encode %s as JSON: %w", msg.ProtoReflect().Descriptor().Name(), err)
		}
		if _, err := p.out.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.out, 0, 0, 2, ' ', 0)
	table(tw)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// row writes one tab-separated line of a table.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// list shows a list of values comma-separated, or "-" when it is empty.
func list(values []string) string {
	return orDash(strings.Join(values, ", "))
}

// yesNo shows a bool.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
