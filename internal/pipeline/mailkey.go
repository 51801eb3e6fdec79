package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
)

// mailKey is a mail's key in the message layer of duplicate detection:
// its sender and Message-ID, or, for a mail without a Message-ID, the hash
// of the mail without its trace header fields (Received, Return-Path,
// Delivered-To and the like, which differ each time a mail is delivered).
// The same mail delivered twice, or delivered again into a mailbox whose
// UIDVALIDITY changed and whose keywords were lost, has one key, though
// its bytes (and so its source key) differ. "" when raw is no mail.
func mailKey(raw []byte) string {
	head, body := raw, []byte(nil)
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 {
			head, body = raw[:i+len(sep)/2], raw[i+len(sep):]
			break
		}
	}
	fields := headerFields(head)
	from, msgID := "", ""
	for _, f := range fields {
		name, value, _ := strings.Cut(f, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "from":
			if a, err := mail.ParseAddress(strings.TrimSpace(value)); err == nil {
				from = strings.ToLower(a.Address)
			} else {
				from = strings.ToLower(strings.TrimSpace(value))
			}
		case "message-id":
			msgID = strings.Join(strings.Fields(value), "")
		}
	}
	if len(fields) == 0 {
		return ""
	}
	if msgID != "" {
		return "msgid|" + from + "|" + msgID
	}
	h := sha256.New()
	for _, f := range fields {
		name, _, _ := strings.Cut(f, ":")
		if traceField(name) {
			continue
		}
		io.WriteString(h, strings.TrimRight(f, "\r\n")+"\n")
	}
	h.Write([]byte{0})
	h.Write(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")))
	return "content|" + hex.EncodeToString(h.Sum(nil))
}

// headerFields splits a header block into its fields, folded lines
// joined to their field.
func headerFields(head []byte) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(head), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case trimmed == "":
		case (line[0] == ' ' || line[0] == '\t') && len(out) > 0:
			out[len(out)-1] += " " + strings.TrimSpace(trimmed)
		case strings.Contains(trimmed, ":"):
			out = append(out, trimmed)
		}
	}
	return out
}

// traceField reports whether a header field is added in transport (and
// so differs between two deliveries of one mail).
func traceField(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "received", "return-path", "delivered-to", "x-original-to", "x-received", "received-spf",
		"authentication-results", "x-delivered-to", "envelope-to", "x-envelope-from", "x-envelope-to":
		return true
	}
	return strings.HasPrefix(n, "arc-") || strings.HasPrefix(n, "x-spam") || strings.HasPrefix(n, "x-virus")
}

// claimMail claims a mail's key for the document; when another document
// holds it, the document is marked a duplicate with a "duplicate" event
// naming the first, and claimMail reports true. Its source acks it like
// any handled mail (moved to the done mailbox).
func (p *Pipeline) claimMail(ctx context.Context, tx *store.Tx, docID, key string) (bool, error) {
	holder, err := tx.ClaimKey(ctx, store.LayerMessage, key, docID, "", p.d.Config().Pipeline.DuplicateWindow)
	if err != nil || holder == nil {
		return false, err
	}
	what := "the same mail"
	if strings.HasPrefix(key, "msgid|") {
		what = "a mail with the same sender and Message-ID"
	}
	reason := fmt.Sprintf("%s was received before as document %s", what, holder.FirstDocumentID)
	if err := tx.SetDocumentStatus(ctx, docID, store.DocumentDuplicate, reason); err != nil {
		return false, err
	}
	_, err = tx.AddEvent(ctx, store.EventInput{DocumentID: docID, Actor: "system", Kind: store.EventDuplicate, Reason: reason})
	return err == nil, err
}
