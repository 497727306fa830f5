// Package bounded reads input that may not end (a device, a pipe, a file
// far larger than any program) without reading more than a limit. It reads
// in chunks and joins them once, rather than growing one buffer, so that
// reading up to the limit costs one copy.
package bounded

import (
	"bytes"
	"errors"
	"io"
)

// chunk is the size of each read.
const chunk = 1 << 20

// ReadAll reads r until EOF, or until it has read more than limit bytes:
// then it stops and returns over true with no data. sizeHint, when
// positive, is how many bytes r is expected to hold (a file's size), so
// that a small input needs one buffer of its size.
func ReadAll(r io.Reader, limit, sizeHint int64) (data []byte, over bool, err error) {
	var parts [][]byte
	var total int64
	size := int64(chunk)
	if sizeHint > 0 {
		size = min(sizeHint+1, limit+1) // +1: see EOF in the same read
	}
	for {
		buf := make([]byte, min(size, limit+1-total))
		n, err := io.ReadFull(r, buf)
		parts = append(parts, buf[:n])
		total += int64(n)
		switch {
		case total > limit:
			return nil, true, nil
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			if len(parts) == 1 {
				return parts[0], false, nil
			}
			return bytes.Join(parts, nil), false, nil
		case err != nil:
			return nil, false, err
		}
		size = chunk
	}
}
