package sftpdrop

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/sftpdrop/sftptest"
)

// A huge inbox is read page by page: a listing stops once it tracks
// enough files, so memory per poll is bounded by the limits and not by the
// folder.
func TestHugeInboxBoundedListing(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := filepath.Join(srv.Dir, "inbox")
	if err := os.Mkdir(inbox, 0o750); err != nil {
		t.Fatal(err)
	}
	const files = 10000
	for i := range files {
		if err := os.WriteFile(filepath.Join(inbox, fmt.Sprintf("po-%05d.edi", i)), []byte{byte(i)}, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	var step atomic.Int64
	cfg := Config{
		Name: "huge", Inbox: "inbox", Archive: "archive",
		Server: Endpoint{Host: sftptest.Host, User: srv.User, PrivateKeyFile: srv.ClientKeyFile,
			KnownHostsFile: srv.KnownHostsFile, DialContext: srv.Dial},
		Poll: time.Millisecond, MaxFilesPerPoll: 50, PageSize: 100,
		Clock: func() time.Time { return time.Unix(step.Add(3600), 0) },
	}
	ch := mustNew(t, cfg)
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 120 { // more than two listings' worth
		doc, ack := readDoc(t, ch)
		doc.Body.Close()
		if err := ack(t.Context(), channels.Committed()); err != nil {
			t.Fatal(err)
		}
		c := ch.current()
		c.mu.Lock()
		tracked := len(c.seen)
		c.mu.Unlock()
		// trackLimit (4 x 50) plus the page and one server batch (128).
		if limit := 4*50 + 100 + 128; tracked > limit {
			t.Fatalf("tracking %d files of a %d-file inbox, want at most %d", tracked, files, limit)
		}
	}
}

func TestParseName(t *testing.T) {
	entry := func(name string, flags uint32, attrs ...uint32) []byte {
		b := appendString(nil, name)
		b = appendString(b, "-rw-r--r-- 1 u g 5 Jan 1 00:00 "+name)
		b = binary.BigEndian.AppendUint32(b, flags)
		for _, a := range attrs {
			b = binary.BigEndian.AppendUint32(b, a)
		}
		return b
	}
	full := binary.BigEndian.AppendUint32(nil, 2)
	full = append(full, entry("a.edi", attrSize|attrPerm|attrTime, 0, 5, 0o100644, 1, 1700000000)...)
	full = append(full, entry("sub", attrPerm, 0o040755)...)
	got, err := parseName(full)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "a.edi" || got[0].size != 5 || !got[0].complete() ||
		got[0].mtime.Unix() != 1700000000 || got[0].mode&modeType != modeRegular || got[1].mode&modeType != modeDir || got[1].complete() {
		t.Errorf("parseName = %+v", got)
	}
	for _, bad := range [][]byte{
		nil,
		binary.BigEndian.AppendUint32(nil, 1),
		binary.BigEndian.AppendUint32(nil, 1<<30),
		full[:len(full)-3],
	} {
		if _, err := parseName(bad); err == nil {
			t.Errorf("parseName(%x) = nil error", bad)
		}
	}
}

func FuzzParseName(f *testing.F) {
	seed := binary.BigEndian.AppendUint32(nil, 1)
	seed = appendString(seed, "po.edi")
	seed = appendString(seed, "")
	seed = binary.BigEndian.AppendUint32(seed, attrSize|attrTime|attrExt)
	seed = binary.BigEndian.AppendUint64(seed, 42)
	seed = binary.BigEndian.AppendUint32(seed, 0)
	seed = binary.BigEndian.AppendUint32(seed, 0)
	seed = binary.BigEndian.AppendUint32(seed, 1)
	seed = appendString(seed, "k")
	seed = appendString(seed, "v")
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseName(data)
		if err != nil {
			return
		}
		if len(entries)*12 > len(data) {
			t.Fatalf("%d entries from %d bytes", len(entries), len(data))
		}
		for _, e := range entries {
			if e.size < 0 || !bytes.Contains(data, []byte(e.name)) {
				t.Fatalf("entry %+v not from the input", e)
			}
		}
	})
}
