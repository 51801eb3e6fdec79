package pipeline

import (
	"regexp"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// faxNumberRe finds a fax number in a fax-to-mail subject ("Fax from +49
// 40 1234 567").
var faxNumberRe = regexp.MustCompile(`\+?\d[\d ()/\-]{5,}\d`)

// captureSender is the sender of a captured draft for metrics: a fax by
// the number it came from (from the fax-to-mail subject, its last three
// digits hidden), else by the customer it was matched to, so that each
// fax sender counts on its own and not under the fax service; any other
// mail by its sender's domain (senderLabel).
func captureSender(doc store.Document, o *order.Order) string {
	if o == nil || o.Channel != order.ChannelFax {
		return senderLabel(doc.Metadata["from"])
	}
	for _, m := range faxNumberRe.FindAllString(doc.Metadata["subject"], -1) {
		var digits strings.Builder
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits.WriteRune(r)
			}
		}
		if d := digits.String(); len(d) >= 7 {
			return "fax:" + d[:len(d)-3] + "xxx"
		}
	}
	if o.CustomerID != "" {
		return "fax:customer:" + o.CustomerID
	}
	return "fax:unknown"
}
