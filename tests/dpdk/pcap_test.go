package dpdk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The classic pcap file format (not pcapng): a 24-byte file header, then
// per frame a 16-byte record header and the captured bytes. Numbers are in
// the writer's byte order; the magic number tells which, and whether the
// second time stamp field counts microseconds or nanoseconds. libpcap on
// this little-endian platform writes little-endian files; DPDK's pcap PMD
// writes nanosecond time stamps.
const (
	pcapMagicMicro      = 0xa1b2c3d4
	pcapMagicNano       = 0xa1b23c4d
	pcapVersionMajor    = 2
	pcapVersionMinor    = 4
	pcapSnapLen         = 65535
	pcapLinkEthernet    = 1
	pcapHeaderLen       = 24
	pcapRecordHeaderLen = 16
)

// writePcap writes frames to a new classic little-endian pcap file at
// path: Ethernet link type, microsecond time stamps one microsecond apart.
func writePcap(path string, frames [][]byte) error {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, pcapMagicMicro)
	b = le.AppendUint16(b, pcapVersionMajor)
	b = le.AppendUint16(b, pcapVersionMinor)
	b = le.AppendUint32(b, 0) // time zone offset
	b = le.AppendUint32(b, 0) // time stamp accuracy
	b = le.AppendUint32(b, pcapSnapLen)
	b = le.AppendUint32(b, pcapLinkEthernet)
	for i, f := range frames {
		if len(f) > pcapSnapLen {
			return fmt.Errorf("pcap %s: frame %d is %d bytes, more than the snap length", path, i, len(f))
		}
		b = le.AppendUint32(b, 0)         // seconds
		b = le.AppendUint32(b, uint32(i)) // microseconds
		b = le.AppendUint32(b, uint32(len(f)))
		b = le.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write pcap: %w", err)
	}
	return nil
}

// readPcap returns the frames of the classic little-endian pcap file of
// Ethernet frames at path. A file cut short, as one still being written
// may be, returns the complete frames before the cut and an error
// wrapping io.ErrUnexpectedEOF.
func readPcap(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pcap: %w", err)
	}
	frames, err := parsePcap(b)
	if err != nil {
		return frames, fmt.Errorf("pcap %s: %w", path, err)
	}
	return frames, nil
}

// parsePcap is readPcap on the file's contents.
func parsePcap(b []byte) ([][]byte, error) {
	le := binary.LittleEndian
	if len(b) < pcapHeaderLen {
		return nil, fmt.Errorf("%d-byte file header: %w", len(b), io.ErrUnexpectedEOF)
	}
	if m := le.Uint32(b); m != pcapMagicMicro && m != pcapMagicNano {
		return nil, fmt.Errorf("magic %#08x is not little-endian classic pcap", m)
	}
	if lt := le.Uint32(b[20:]); lt != pcapLinkEthernet {
		return nil, fmt.Errorf("link type %d is not Ethernet", lt)
	}
	var frames [][]byte
	for b = b[pcapHeaderLen:]; len(b) > 0; {
		if len(b) < pcapRecordHeaderLen {
			return frames, fmt.Errorf("record %d: %d-byte header: %w", len(frames), len(b), io.ErrUnexpectedEOF)
		}
		captured, orig := le.Uint32(b[8:]), le.Uint32(b[12:])
		if captured != orig {
			return frames, fmt.Errorf("record %d: %d of %d bytes captured", len(frames), captured, orig)
		}
		b = b[pcapRecordHeaderLen:]
		if uint64(len(b)) < uint64(captured) {
			return frames, fmt.Errorf("record %d: %d of %d bytes: %w", len(frames), len(b), captured, io.ErrUnexpectedEOF)
		}
		frames = append(frames, b[:captured:captured])
		b = b[captured:]
	}
	return frames, nil
}

func TestPcapRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcap")
	want := [][]byte{{1, 2, 3}, {}, bytes.Repeat([]byte{0xab}, 1514)}
	if err := writePcap(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d frames, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d: read % x, wrote % x", i, got[i], want[i])
		}
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		file   []byte
		frames int
	}{
		{"header cut", b[:pcapHeaderLen-1], 0},
		{"record header cut", b[:pcapHeaderLen+pcapRecordHeaderLen-1], 0},
		{"frame cut", b[:len(b)-1], 2},
	} {
		frames, err := parsePcap(tc.file)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(frames) != tc.frames {
			t.Errorf("%s: %d frames, %v; want %d frames and an unexpected EOF", tc.name, len(frames), err, tc.frames)
		}
	}
	nano := bytes.Clone(b)
	binary.LittleEndian.PutUint32(nano, pcapMagicNano)
	if frames, err := parsePcap(nano); err != nil || len(frames) != len(want) {
		t.Errorf("nanosecond file: %d frames, %v", len(frames), err)
	}
	bigEndian := bytes.Clone(b)
	binary.BigEndian.PutUint32(bigEndian, pcapMagicMicro)
	if _, err := parsePcap(bigEndian); err == nil {
		t.Error("big-endian file parsed")
	}
}
