// Package sftptest runs an in-process SFTP server (pkg/sftp's server behind
// an x/crypto/ssh server) over in-memory connections (buffered pipes), for tests of the
// SFTP client code without a network or root. It can inject faults at the
// wire level: short reads, an early end of file, and rewritten names in
// directory listings.
//
// Relative paths resolve in Server.Dir; pkg/sftp's server does not jail
// absolute paths, so tests use relative ones.
package sftptest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host is the host name the server answers to (the address is not real:
// connections come from Server.Dial).
const Host = "sftptest.invalid"

// Faults are wire-level faults of the server's replies.
type Faults struct {
	// ShortReads halves every fourth data reply (a server may send fewer
	// bytes than asked for without being at the end of the file).
	ShortReads bool
	// EOFAt, when positive, makes every file end at this offset: data
	// beyond it is cut and reads from it answer end of file, while stat
	// still reports the real size.
	EOFAt int64
	// Names rewrites file names in directory listings (old -> new).
	Names map[string]string
}

// Server is a running in-process server.
type Server struct {
	// Dir is the server's working folder.
	Dir string
	// User, Password and ClientKeyFile are accepted credentials.
	User          string
	Password      string
	ClientKeyFile string
	// KnownHostsFile and HostKeyFingerprint pin the host key for Host:22.
	KnownHostsFile     string
	HostKeyFingerprint string

	cfg *ssh.ServerConfig

	mu     sync.Mutex
	faults Faults
	conns  map[net.Conn]bool
	dials  int
	closed bool
	wg     sync.WaitGroup
}

// Start starts a server serving a new temporary folder; it stops with the
// test.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir(), User: "partner", Password: "s3cret-test", conns: map[net.Conn]bool{}}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "sftptest")
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	s.ClientKeyFile = filepath.Join(keys, "id_ed25519")
	if err := os.WriteFile(s.ClientKeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s.KnownHostsFile = filepath.Join(keys, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(Host + ":22")}, hostSigner.PublicKey()) + "\n"
	if err := os.WriteFile(s.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s.HostKeyFingerprint = ssh.FingerprintSHA256(hostSigner.PublicKey())
	sshClientPub, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == s.User && string(pw) == s.Password {
				return nil, nil
			}
			return nil, fmt.Errorf("password rejected for %q", c.User())
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == s.User && string(key.Marshal()) == string(sshClientPub.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("key rejected for %q", c.User())
		},
	}
	s.cfg.AddHostKey(hostSigner)
	t.Cleanup(s.Close)
	return s
}

// SetFaults replaces the faults; they apply to replies sent from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Dials returns how many connections were opened.
func (s *Server) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

// Dial is a DialContext for the client: it returns one end of an
// in-memory connection and serves the other.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	client, server := pipe()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("sftptest: dial %s: server closed", addr)
	}
	s.dials++
	s.conns[server] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serve(server)
	return client, nil
}

// DropConnections closes every open connection from the server side.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close drops all connections and refuses new ones.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.DropConnections()
	s.wg.Wait()
}

func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	conn, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		channel, requests, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(channel, requests)
		}()
	}
}

func (s *Server) session(channel ssh.Channel, requests <-chan *ssh.Request) {
	defer channel.Close()
	for req := range requests {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		req.Reply(ok, nil)
		if !ok {
			continue
		}
		go ssh.DiscardRequests(requests)
		srv, err := sftp.NewServer(&faulty{rw: channel, s: s, reads: map[uint32]int64{}}, sftp.WithServerWorkingDirectory(s.Dir))
		if err != nil {
			return
		}
		srv.Serve()
		srv.Close()
		return
	}
}

// faulty sits between the SFTP server and its channel: it notes the
// offsets of read requests and rewrites replies by the server's Faults.
type faulty struct {
	rw io.ReadWriteCloser
	s  *Server

	mu    sync.Mutex
	in    []byte
	out   []byte
	reads map[uint32]int64 // request id -> offset
	nData int
}

func (f *faulty) Read(p []byte) (int, error) {
	n, err := f.rw.Read(p)
	f.mu.Lock()
	f.in = append(f.in, p[:n]...)
	for len(f.in) >= 4 {
		size := int(binary.BigEndian.Uint32(f.in))
		if len(f.in) < 4+size {
			break
		}
		pkt := f.in[4 : 4+size]
		if len(pkt) >= 1+4+4 && pkt[0] == 5 { // READ: id, handle, offset, len
			id := binary.BigEndian.Uint32(pkt[1:])
			hl := int(binary.BigEndian.Uint32(pkt[5:]))
			if len(pkt) >= 9+hl+8 {
				f.reads[id] = int64(binary.BigEndian.Uint64(pkt[9+hl:]))
			}
		}
		f.in = f.in[4+size:]
	}
	f.mu.Unlock()
	return n, err
}

func (f *faulty) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out = append(f.out, p...)
	faults := f.s.currentFaults()
	for len(f.out) >= 4 {
		size := int(binary.BigEndian.Uint32(f.out))
		if len(f.out) < 4+size {
			break
		}
		pkt := f.rewrite(f.out[4:4+size], faults)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(pkt)))
		if _, err := f.rw.Write(append(hdr[:], pkt...)); err != nil {
			return 0, err
		}
		f.out = f.out[4+size:]
	}
	return len(p), nil
}

func (f *faulty) Close() error { return f.rw.Close() }

func (f *faulty) rewrite(pkt []byte, faults Faults) []byte {
	if len(pkt) < 5 {
		return pkt
	}
	id := binary.BigEndian.Uint32(pkt[1:])
	switch pkt[0] {
	case 103: // DATA: id, string data
		off, known := f.reads[id]
		delete(f.reads, id)
		if len(pkt) < 9 {
			return pkt
		}
		data := pkt[9:]
		if faults.EOFAt > 0 && known {
			if off >= faults.EOFAt {
				return statusEOF(id)
			}
			if end := off + int64(len(data)); end > faults.EOFAt {
				data = data[:faults.EOFAt-off]
			}
		}
		f.nData++
		if faults.ShortReads && len(data) > 1 && f.nData%4 == 0 {
			data = data[:len(data)/2]
		}
		out := append([]byte{103}, pkt[1:5]...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		return append(out, data...)
	case 104: // NAME: id, count, (name, longname, attrs)*
		if len(faults.Names) == 0 {
			return pkt
		}
		return renameEntries(pkt, faults.Names)
	}
	return pkt
}

func statusEOF(id uint32) []byte {
	out := []byte{101}
	out = binary.BigEndian.AppendUint32(out, id)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 3)
	out = append(out, "EOF"...)
	return binary.BigEndian.AppendUint32(out, 0)
}

// renameEntries rewrites the file names of a NAME packet. Attributes are
// copied as they are; a packet it cannot parse is returned unchanged.
func renameEntries(pkt []byte, names map[string]string) []byte {
	b := pkt[5:]
	str := func() ([]byte, bool) {
		if len(b) < 4 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+n {
			return nil, false
		}
		v := b[4 : 4+n]
		b = b[4+n:]
		return v, true
	}
	if len(b) < 4 {
		return pkt
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	out := append([]byte(nil), pkt[:9]...)
	for range count {
		name, ok1 := str()
		long, ok2 := str()
		start := b
		if !ok1 || !ok2 || len(b) < 4 {
			return pkt
		}
		flags := binary.BigEndian.Uint32(b)
		b = b[4:]
		skip := 0
		if flags&1 != 0 {
			skip += 8
		}
		if flags&2 != 0 {
			skip += 8
		}
		if flags&4 != 0 {
			skip += 4
		}
		if flags&8 != 0 {
			skip += 8
		}
		if len(b) < skip {
			return pkt
		}
		b = b[skip:]
		if flags&0x80000000 != 0 {
			return pkt
		}
		attrs := start[:len(start)-len(b)]
		n := string(name)
		if r, ok := names[n]; ok {
			n = r
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(long)))
		out = append(out, long...)
		out = append(out, attrs...)
	}
	return out
}
