package pipeline

import (
	"strings"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
)

// Resolver matches an interchange to a configured partner: by the
// interchange sender (X12 ISA05/ISA06, EDIFACT UNB sender and qualifier),
// else by the channel the document came through (a channel's fixed
// partner, or a partner listing the channel in match.channels).
func Resolver(cfg *config.Config, channel, fixedPartner string) ediproc.Resolver {
	return func(std edi.Standard, env edi.Envelope) (ediproc.Partner, bool) {
		for _, p := range cfg.Partners {
			var ids []config.PartyID
			switch std {
			case edi.X12:
				ids = p.Match.X12
			case edi.EDIFACT:
				ids = p.Match.EDIFACT
			}
			for _, id := range ids {
				if strings.TrimSpace(id.ID) == strings.TrimSpace(env.SenderID) &&
					(id.Qualifier == "" || strings.TrimSpace(id.Qualifier) == strings.TrimSpace(env.SenderQualifier)) {
					return PartnerSettings(p), true
				}
			}
		}
		for _, p := range cfg.Partners {
			if p.ID == fixedPartner {
				return PartnerSettings(p), true
			}
			for _, ch := range p.Match.Channels {
				if ch == channel {
					return PartnerSettings(p), true
				}
			}
		}
		return ediproc.Partner{}, false
	}
}

// PartnerSettings converts a configured partner to what processing needs.
func PartnerSettings(p config.Partner) ediproc.Partner {
	return ediproc.Partner{
		ID: p.ID, CustomerID: p.CustomerID,
		Functional: p.Acks.Functional, TA1: p.Acks.TA1, CONTRL: p.Acks.CONTRL, Duplicates: p.Duplicates,
		X12Element: p.X12.Element, X12Component: p.X12.Component, X12Segment: p.X12.Segment, X12Repetition: p.X12.Repetition,
		X12OurQualifier: p.X12.OurQualifier, X12OurID: p.X12.OurID,
		EDIFACTUNA: p.EDIFACT.UNA, EDIFACTSyntax: p.EDIFACT.Syntax,
		EDIFACTOurQualifier: p.EDIFACT.OurQualifier, EDIFACTOurID: p.EDIFACT.OurID,
	}
}
