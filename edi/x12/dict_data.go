package x12

import (
	"fmt"
	"strconv"
	"strings"
)

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("x12 dictionary: bad number " + s)
	}
	return n
}

// This file is the segment dictionary: the segments of the 850 purchase
// order (4010 and 5010) and of the sets the gateway writes (855, 997,
// 999), with their elements, syntax notes, the key code lists and the
// set structures. Element specs are written compactly as
// "ref type min/max req [@codelist]" separated by ";", syntax notes as
// "R0203 P0304"; parsing them happens once, when the package loads.

func list(closed bool, pairs ...string) *codeList {
	c := &codeList{closed: closed, codes: make(map[string]string, len(pairs))}
	for _, p := range pairs {
		code, meaning, _ := strings.Cut(p, "=")
		c.codes[code] = meaning
	}
	c.index()
	return c
}

func codes(closed bool, s string) *codeList {
	return list(closed, strings.Fields(s)...)
}

// Code lists. Closed lists are enforced (AK4 7); open lists hold the
// codes the gateway knows and are not enforced, because the standard's
// lists are far longer than what any one partner uses.
var codeLists = map[string]*codeList{
	// 353 Transaction Set Purpose Code (BEG01, BAK01).
	"353": codes(true, "00=original 01=cancellation 02=add 03=delete 04=change 05=replace 06=confirmation 07=duplicate "+
		"08=status 10=not-found 11=response 12=not-processed 13=request 14=advance-notification 15=re-submission "+
		"16=proposed 17=cancel-to-be-reissued 18=reissue 19=seller-initiated-change 20=final-transmission "+
		"21=transaction-on-hold 22=information-copy 24=draft 25=incremental 26=replace-specified-buyers-account "+
		"27=verify 28=query 30=renewal 31=allowance-addition 32=recovery-deduction 33=request-for-payment "+
		"34=payment-declined 35=request-authority 36=authority-to-deduct 37=authority-declined 38=no-financial-value "+
		"39=response-to-proposed-trip-plan 40=commitment-advice 41=corrected-and-verified 42=temporary-record "+
		"43=request-permission-to-service 44=rejection 45=follow-up 46=cancellation-of-mortgage 47=refinance "+
		"48=change-of-mortgage 49=original-no-response 50=..-50 51=historical-inquiry 52=response-to-historical-inquiry "+
		"53=completion 54=approval 55=excavation 56=expiration-notification 77=simulation-exercise "+
		"CN=completion-notification CO=corrected EX=final-loading-configuration GR=granted PR=proposed-loading-configuration "+
		"RH=release-hold RV=revised-loading-configuration SU=status-update ZZ=mutually-defined"),
	// 92 Purchase Order Type Code (BEG02).
	"92": codes(false, "SA=stand-alone NE=new-order DS=drop-ship BK=blanket BE=blanket-estimated KN=purchase-order "+
		"RL=release RO=rush-order CF=confirmation CN=consigned-order CP=change-to-purchase-order DR=direct-ship "+
		"EO=emergency-order IN=information-copy NP=new-product OS=special-order PR=promotion RE=reorder "+
		"RR=repair-and-return SP=sample ST=standing-order SS=supply-or-service TR=transfer WO=warehouse-order"),
	// 98 Entity Identifier Code (N101, CUR01).
	"98": codes(false, "BY=buyer ST=ship-to BT=bill-to SE=selling-party VN=vendor SF=ship-from SO=sold-to SU=supplier "+
		"RI=remit-to BS=bill-and-ship-to PF=party-for-freight MF=manufacturer OB=ordered-by RE=party-receiving-payment "+
		"Z7=mark-for DA=delivery-address BO=broker-or-sales-office CA=carrier II=issuer-of-invoice ZZ=mutually-defined"),
	// 66 Identification Code Qualifier (N103).
	"66": codes(false, "1=DUNS 9=DUNS+4 91=assigned-by-seller 92=assigned-by-buyer UL=GLN 15=SAN ZZ=mutually-defined "+
		"10=DODAAC 21=health-industry-number 93=code-assigned-by-party-originating 94=code-assigned-by-receiver"),
	// 355 Unit or Basis for Measurement Code (PO103, ACK03).
	"355": codes(false, "EA=each CA=case BX=box DZ=dozen LB=pound KG=kilogram PK=package PL=pallet PR=pair RL=roll "+
		"FT=foot YD=yard MR=meter GA=gallon LT=liter UN=unit CT=carton CR=cubic-meter SF=square-foot BG=bag "+
		"BD=bundle DR=drum GR=gram OZ=ounce ST=set HR=hour TH=thousand C62=one"),
	// 235 Product/Service ID Qualifier (PO106, PO108, ...).
	"235": codes(false, "BP=buyers-part IN=buyers-item VP=vendors-part VN=vendors-item UP=UPC EN=EAN UK=GTIN-14 "+
		"MG=manufacturers-part SK=SKU CB=buyers-catalog VA=vendors-style VC=vendors-catalog PI=purchasers-item "+
		"UA=UPC-case-code UI=UPC-consumer-package ND=NDC BL=brand-line MN=model-number SN=serial-number "+
		"PD=part-description ST=style CL=color SZ=size"),
	// 374 Date/Time Qualifier (DTM01).
	"374": codes(false, "002=delivery-requested 010=requested-ship 001=cancel-after 037=ship-not-before "+
		"038=ship-no-later 063=do-not-deliver-after 064=do-not-deliver-before 068=current-schedule-ship "+
		"017=estimated-delivery 067=current-schedule-delivery 074=requested-for-delivery-week-of"),
	// 100 Currency Code (CUR02): ISO 4217.
	"100": codes(true, "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP "+
		"BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "+
		"GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK "+
		"LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR "+
		"PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC "+
		"SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR "+
		"ZMW ZWL"),
	// 248 Allowance or Charge Indicator (SAC01).
	"248": codes(true, "A=allowance C=charge N=no-allowance-or-charge P=promotion Q=charge-request R=allowance-request S=service"),
	// 349 Item Description Type (PID01).
	"349": codes(true, "F=free-form S=structured X=semi-structured"),
	// 522 Amount Qualifier Code (AMT01).
	"522": codes(false, "TT=total-transaction-amount 1=line-item-total GV=gross-value"),
	// 587 Acknowledgment Type (BAK02).
	"587": codes(true, "AC=accepted-with-detail-and-change AD=accepted-with-detail-no-change AE=accepted-with-exception-detail "+
		"AH=acknowledge-hold-status AK=acknowledge-no-detail AP=acknowledge-product-replenishment AT=accepted "+
		"NA=no-acknowledgment-needed RD=rejected-with-detail RF=rejected-with-exception-detail RJ=rejected-no-detail "+
		"RN=rejected-not-as-agreed RO=rejected-with-counter-offer RV=rejected-validation-errors ZZ=mutually-defined"),
	// 668 Line Item Status Code (ACK01).
	"668": codes(true, "AC=acknowledged-and-shipped AR=accepted-and-released BP=partial-shipment DR=date-rescheduled "+
		"IA=item-accepted IB=item-backordered IC=item-accepted-changes-made ID=item-deleted IE=item-accepted-price-pending "+
		"IF=item-on-hold-incomplete-description IH=item-on-hold IP=item-accepted-price-changed IQ=item-accepted-quantity-changed "+
		"IR=item-rejected IS=item-accepted-substitution IW=item-on-hold-waiver R1=not-contract-item R2=invalid-item "+
		"R3=multiple-errors R4=not-available SP=item-accepted-schedule-date-pending"),
	// 479 Functional Identifier Code (AK101).
	"479": codes(false, "PO=purchase-order PR=po-acknowledgment FA=functional-acknowledgment IN=invoice SH=ship-notice"),
	// 715 Functional Group Acknowledge Code (AK901).
	"715": codes(true, "A=accepted E=accepted-with-errors M=rejected-mac-failed P=partially-accepted R=rejected W=rejected-assurance X=rejected-content"),
	// 717 Transaction Set Acknowledgment Code (AK501, IK501).
	"717": codes(true, "A=accepted E=accepted-with-errors M=rejected-mac-failed R=rejected W=rejected-assurance X=rejected-content"),
	// 716 Functional Group Syntax Error Code (AK905..).
	"716": codes(true, "1 2 3 4 5 6 10 11 12 13 14 15 16 17 18 19 23 24 25 26"),
	// 718 Transaction Set Syntax Error Code (AK502..).
	"718": codes(true, "1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27 I5 I6"),
	// 720 Segment Syntax Error Code (AK304).
	"720": codes(true, "1 2 3 4 5 6 7 8"),
	// 620 Implementation Segment Syntax Error Code (IK304).
	"620": codes(true, "1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9"),
	// 723 Data Element Syntax Error Code (AK403).
	"723": codes(true, "1 2 3 4 5 6 7 8 9 10"),
	// 621 Implementation Data Element Syntax Error Code (IK403).
	"621": codes(true, "1 2 3 4 5 6 7 8 9 10 12 13 I6 I9 I10 I11 I12 I13"),
	// 143 Transaction Set Identifier Code (AK201).
	"143": codes(false, "850 855 997 999 810 856 860 865"),
}

// parseElems parses the compact element spec.
func parseElems(spec string) []elemDef {
	var out []elemDef
	for _, f := range strings.Split(spec, ";") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		out = append(out, parseElem(f))
	}
	return out
}

func parseElem(f string) elemDef {
	parts := strings.Fields(f)
	if len(parts) < 4 {
		panic("x12 dictionary: bad element spec " + f)
	}
	var e elemDef
	e.ref = mustAtoi(parts[0])
	switch t := parts[1]; {
	case t == "AN":
		e.typ = tAN
	case t == "ID":
		e.typ = tID
	case t == "R":
		e.typ = tR
	case t == "DT":
		e.typ = tDT
	case t == "TM":
		e.typ = tTM
	case len(t) == 2 && t[0] == 'N':
		e.typ, e.places = tN, int(t[1]-'0')
	default:
		panic("x12 dictionary: bad type in " + f)
	}
	mn, mx, _ := strings.Cut(parts[2], "/")
	e.min, e.max = mustAtoi(mn), mustAtoi(mx)
	switch parts[3] {
	case "M":
		e.req = mandatory
	case "X":
		e.req = conditional
	case "O":
		e.req = optional
	default:
		panic("x12 dictionary: bad requirement in " + f)
	}
	if len(parts) > 4 && strings.HasPrefix(parts[4], "@") {
		e.codes = codeLists[parts[4][1:]]
		if e.codes == nil {
			panic("x12 dictionary: unknown code list in " + f)
		}
	}
	return e
}

func parseRules(spec string) []rule {
	var out []rule
	for _, f := range strings.Fields(spec) {
		var r rule
		switch f[0] {
		case 'P':
			r.kind = ruleP
		case 'R':
			r.kind = ruleR
		case 'E':
			r.kind = ruleE
		case 'C':
			r.kind = ruleC
		case 'L':
			r.kind = ruleL
		default:
			panic("x12 dictionary: bad syntax note " + f)
		}
		for i := 1; i+2 <= len(f); i += 2 {
			r.elems = append(r.elems, mustAtoi(f[i:i+2]))
		}
		r.index()
		out = append(out, r)
	}
	return out
}

func sd(tag, elems, rules string) *segDef {
	return &segDef{tag: tag, elems: parseElems(elems), rules: parseRules(rules)}
}

// composite builds a composite element.
func composite(r req, comps string) elemDef {
	return elemDef{typ: tComposite, req: r, comps: parseElems(comps)}
}

func withElem(d *segDef, pos int, e elemDef) *segDef {
	for len(d.elems) < pos {
		d.elems = append(d.elems, elemDef{})
	}
	d.elems[pos-1] = e
	return d
}

// productPairs is the (qualifier, id) pairs of PO1 and ACK, from position
// first on, n pairs.
func productPairs(first, n, idMax int) (string, string) {
	var el, ru strings.Builder
	for i := range n {
		fmt.Fprintf(&el, "235 ID 2/2 X @235; 234 AN 1/%d X;", idMax)
		fmt.Fprintf(&ru, " P%02d%02d", first+2*i, first+2*i+1)
	}
	return el.String(), ru.String()
}

var (
	po1Pairs, po1PairRules = productPairs(6, 10, 48)
	ackPairs, ackPairRules = productPairs(7, 11, 48)
)

// curElems is CUR with its five date/time triplets.
var curElems = "98 ID 2/3 M @98; 100 ID 3/3 M @100; 280 R 4/10 O; 98 ID 2/3 O @98; 100 ID 3/3 O @100; 669 ID 3/3 O;" +
	strings.Repeat("374 ID 3/3 X @374; 373 DT 8/8 O; 337 TM 4/8 O;", 5)

// segments4010 is the 4010 segment dictionary.
var segments4010 = map[string]*segDef{
	"BEG": sd("BEG", "353 ID 2/2 M @353; 92 ID 2/2 M @92; 324 AN 1/22 M; 328 AN 1/30 O; 373 DT 8/8 M; 367 AN 1/30 O; "+
		"587 ID 2/2 O @587; 1019 ID 3/3 O; 1166 ID 2/2 O; 1232 ID 2/2 O; 786 ID 2/2 O; 640 ID 2/2 O", ""),
	"CUR": sd("CUR", curElems, "C0807 C0907 C1110 C1210 C1413 C1513 C1716 C1816 C2019 C2119"),
	"REF": withElem(sd("REF", "128 ID 2/3 M; 127 AN 1/30 X; 352 AN 1/80 X", "R0203"), 4,
		composite(optional, "128 ID 2/3 M; 127 AN 1/30 M; 128 ID 2/3 X; 127 AN 1/30 X; 128 ID 2/3 X; 127 AN 1/30 X")),
	"PER": sd("PER", "366 ID 2/2 M; 93 AN 1/60 O; 365 ID 2/2 X; 364 AN 1/80 X; 365 ID 2/2 X; 364 AN 1/80 X; 365 ID 2/2 X; 364 AN 1/80 X; 443 AN 1/20 O",
		"P0304 P0506 P0708"),
	"FOB": sd("FOB", "146 ID 2/2 M; 309 ID 1/2 X; 352 AN 1/80 O; 334 ID 2/2 O; 335 ID 3/3 X; 309 ID 1/2 X; 352 AN 1/80 O; 54 ID 2/2 O; 352 AN 1/80 X",
		"C0302 C0405 C0706 C0809"),
	"SAC": sd("SAC", "248 ID 1/1 M @248; 1300 ID 4/4 X; 559 ID 2/2 X; 1301 AN 1/10 X; 610 N2 1/15 O; 378 ID 1/1 X; 332 R 1/6 X; "+
		"118 R 1/9 O; 355 ID 2/2 X @355; 380 R 1/15 X; 380 R 1/15 O; 331 ID 2/2 O; 127 AN 1/30 X; 770 AN 1/20 O; 352 AN 1/80 X; 819 ID 2/3 O",
		"R0203 P0304 P0607 P0910 C1110 C1413 C1615"),
	"ITD": sd("ITD", "336 ID 2/2 O; 333 ID 1/2 O; 338 R 1/6 O; 370 DT 8/8 X; 351 N0 1/3 X; 446 DT 8/8 O; 386 N0 1/3 O; 362 N2 1/10 O; "+
		"388 DT 8/8 O; 389 N2 1/10 O; 342 R 1/5 O; 352 AN 1/80 O; 765 N0 1/2 X; 107 ID 1/2 O; 954 R 1/10 O", ""),
	"DTM": sd("DTM", "374 ID 3/3 M @374; 373 DT 8/8 X; 337 TM 4/8 X; 623 ID 2/2 O; 1250 ID 2/3 X; 1251 AN 1/35 X",
		// P0506 is left out: partners on 4010 still send DTM05 as the
		// century of the 3xxx versions ("DTM*175*19980615***19").
		"R020305 C0403"),
	"TD5": sd("TD5", "133 ID 1/2 O; 66 ID 1/2 X @66; 67 AN 2/80 X; 91 ID 1/2 X; 387 AN 1/35 X; 368 ID 2/2 X; 309 ID 1/2 O; 310 AN 1/30 X; "+
		"731 ID 2/2 O; 732 ID 2/2 O; 733 R 1/4 X; 284 ID 2/2 X; 284 ID 2/2 X; 284 ID 2/2 O; 26 ID 2/3 O",
		"R0204050612 P0203"),
	"N9": withElem(sd("N9", "128 ID 2/3 M; 127 AN 1/30 X; 369 AN 1/45 X; 373 DT 8/8 O; 337 TM 4/8 X; 623 ID 2/2 O", "R0203 C0605"), 7,
		composite(optional, "128 ID 2/3 M; 127 AN 1/30 M; 128 ID 2/3 X; 127 AN 1/30 X; 128 ID 2/3 X; 127 AN 1/30 X")),
	"MSG": sd("MSG", "933 AN 1/264 M; 934 ID 2/2 X; 1470 N0 1/9 O", "C0302"),
	"NTE": sd("NTE", "363 ID 3/3 O; 352 AN 1/80 M", ""),
	"N1":  sd("N1", "98 ID 2/3 M @98; 93 AN 1/60 X; 66 ID 1/2 X @66; 67 AN 2/80 X; 706 ID 2/2 O; 98 ID 2/3 O @98", "R0203 P0304"),
	"N2":  sd("N2", "93 AN 1/60 M; 93 AN 1/60 O", ""),
	"N3":  sd("N3", "166 AN 1/55 M; 166 AN 1/55 O", ""),
	"N4":  sd("N4", "19 AN 2/30 O; 156 ID 2/2 O; 116 ID 3/15 O; 26 ID 2/3 O; 309 ID 1/2 X; 310 AN 1/30 O", "C0605"),
	"PO1": sd("PO1", "350 AN 1/20 O; 330 R 1/15 X; 355 ID 2/2 X @355; 212 R 1/17 X; 639 ID 2/2 O;"+po1Pairs,
		"C0302 C0504"+po1PairRules),
	"PID": sd("PID", "349 ID 1/1 M @349; 750 ID 2/3 O; 559 ID 2/2 X; 751 AN 1/12 X; 352 AN 1/80 X; 752 ID 2/2 O; 822 AN 1/15 O; 1073 ID 1/1 O; 819 ID 2/3 O",
		"C0403 R0405"),
	"PO4": sd("PO4", "356 N0 1/6 O; 357 R 1/8 X; 355 ID 2/2 X @355; 103 AN 3/5 X; 187 ID 1/2 O; 384 R 1/9 X; 355 ID 2/2 X @355; 385 R 1/9 X; "+
		"355 ID 2/2 X @355; 82 R 1/8 X; 189 R 1/8 X; 65 R 1/8 X; 355 ID 2/2 X @355; 810 N0 1/6 O; 752 ID 2/2 O; 350 AN 1/20 X; 350 AN 1/20 O; 1470 N0 1/9 O",
		"C0203 P0607 P0809"),
	"CTT": sd("CTT", "354 N0 1/6 M; 347 R 1/10 O; 81 R 1/10 X; 355 ID 2/2 X @355; 183 R 1/8 X; 355 ID 2/2 X @355; 352 AN 1/80 O", "P0304 P0506"),
	"AMT": sd("AMT", "522 ID 1/3 M @522; 782 R 1/18 M; 478 ID 1/1 O", ""),
	// 855
	"BAK": sd("BAK", "353 ID 2/2 M @353; 587 ID 2/2 M @587; 324 AN 1/22 M; 373 DT 8/8 M; 328 AN 1/30 O; 326 AN 1/45 O; 367 AN 1/30 O; "+
		"127 AN 1/30 O; 373 DT 8/8 O; 640 ID 2/2 O", ""),
	"ACK": sd("ACK", "668 ID 2/2 M @668; 380 R 1/15 X; 355 ID 2/2 X @355; 374 ID 3/3 X @374; 373 DT 8/8 O; 326 AN 1/45 O;"+ackPairs+" 559 ID 2/2 O",
		"P0203 C0405"+ackPairRules),
	// 997
	"AK1": sd("AK1", "479 ID 2/2 M @479; 28 N0 1/9 M", ""),
	"AK2": sd("AK2", "143 ID 3/3 M @143; 329 AN 4/9 M", ""),
	"AK3": sd("AK3", "721 ID 2/3 M; 719 N0 1/6 M; 447 AN 1/4 O; 720 ID 1/3 O @720", ""),
	"AK4": withElem(sd("AK4", "0 AN 1/1 M; 725 N0 1/4 O; 723 ID 1/3 M @723; 724 AN 1/99 O", ""), 1,
		composite(mandatory, "722 N0 1/2 M; 1528 N0 1/2 O")),
	"AK5": sd("AK5", "717 ID 1/1 M @717; 718 ID 1/3 O @718; 718 ID 1/3 O @718; 718 ID 1/3 O @718; 718 ID 1/3 O @718; 718 ID 1/3 O @718", ""),
	"AK9": sd("AK9", "715 ID 1/1 M @715; 97 N0 1/6 M; 123 N0 1/6 M; 2 N0 1/6 M; 716 ID 1/3 O @716; 716 ID 1/3 O @716; 716 ID 1/3 O @716; 716 ID 1/3 O @716; 716 ID 1/3 O @716", ""),
}

// segments5010 is the 5010 dictionary: the 4010 one with the 5010 changes
// to lengths and added elements.
var segments5010 = func() map[string]*segDef {
	m := make(map[string]*segDef, len(segments4010)+4)
	for k, v := range segments4010 {
		m[k] = v
	}
	m["REF"] = withElem(sd("REF", "128 ID 2/3 M; 127 AN 1/50 X; 352 AN 1/80 X", "R0203"), 4,
		composite(optional, "128 ID 2/3 M; 127 AN 1/50 M; 128 ID 2/3 X; 127 AN 1/50 X; 128 ID 2/3 X; 127 AN 1/50 X"))
	m["PER"] = sd("PER", "366 ID 2/2 M; 93 AN 1/60 O; 365 ID 2/2 X; 364 AN 1/256 X; 365 ID 2/2 X; 364 AN 1/256 X; 365 ID 2/2 X; 364 AN 1/256 X; 443 AN 1/20 O",
		"P0304 P0506 P0708")
	m["N1"] = sd("N1", "98 ID 2/3 M @98; 93 AN 1/60 X; 66 ID 1/2 X @66; 67 AN 2/80 X; 706 ID 2/2 O; 98 ID 2/3 O @98", "R0203 P0304")
	m["N4"] = sd("N4", "19 AN 2/30 O; 156 ID 2/2 O; 116 ID 3/15 O; 26 ID 2/3 O; 309 ID 1/2 X; 310 AN 1/30 O; 1715 ID 1/3 X", "E0207 C0605 C0704")
	m["AK1"] = sd("AK1", "479 ID 2/2 M @479; 28 N0 1/9 M; 480 AN 1/12 O", "")
	m["AK2"] = sd("AK2", "143 ID 3/3 M @143; 329 AN 4/9 M; 1705 AN 1/35 O", "")
	m["AK4"] = withElem(sd("AK4", "0 AN 1/1 M; 725 N0 1/4 O; 723 ID 1/3 M @723; 724 AN 1/99 O", ""), 1,
		composite(mandatory, "722 N0 1/2 M; 1528 N0 1/2 O; 1686 N0 1/4 O"))
	m["IK3"] = sd("IK3", "721 ID 2/3 M; 719 N0 1/10 M; 447 AN 1/4 O; 620 ID 1/3 O @620", "")
	m["IK4"] = withElem(sd("IK4", "0 AN 1/1 M; 725 N0 1/4 O; 621 ID 1/3 M @621; 724 AN 1/99 O", ""), 1,
		composite(mandatory, "722 N0 1/2 M; 1528 N0 1/2 O; 1686 N0 1/4 O"))
	m["IK5"] = sd("IK5", "717 ID 1/1 M @717; 618 ID 1/3 O; 618 ID 1/3 O; 618 ID 1/3 O; 618 ID 1/3 O; 618 ID 1/3 O", "")
	ctx := sd("CTX", "0 AN 1/1 M; 721 ID 2/3 O; 719 N0 1/10 O; 447 AN 1/4 O", "")
	ctx = withElem(ctx, 1, composite(mandatory, "9999 AN 1/35 M; 1271 AN 1/35 O"))
	ctx = withElem(ctx, 5, composite(optional, "722 N0 1/2 M; 1528 N0 1/2 O; 1686 N0 1/4 O"))
	ctx = withElem(ctx, 6, composite(optional, "1222 AN 1/30 M; 1222 AN 1/30 O"))
	m["CTX"] = ctx
	return m
}()

// knownTags are segment tags of the X12 standard beyond the dictionary,
// so that a segment that exists in X12 but not in the set is reported as
// "not in defined transaction set" (AK3 6) rather than "unrecognized"
// (AK3 1).
var knownTags = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields("ISA IEA GS GE ST SE TA1 ISB ISE TAX CTP PAM CSH TC2 DIS INC LDT LIN SI MEA PWK PKG TD1 TD3 TD4 " +
		"MAN PCT CTB TXI FA1 FA2 NX2 LM LQ SPI ADV CN1 PO3 IT8 SDQ IT3 QTY SCH LS LE SLN BIG IT1 HL BSN LX BHT NM1 CLM " +
		"SV1 SV2 DTP HI PRV SBR DMG OI SVD BPR TRN CLP CAS G62 B10 L11 B3 L5 AT7 MS1 MS2 POC BCH BCA ACK BAK IK3 IK4 IK5 CTX MTX") {
		m[t] = true
	}
	for t := range segments5010 {
		m[t] = true
	}
	return m
}()

// Set structures: each entry is a segment or a loop with its
// requirement and maximum use (0 = unbounded). ST and SE are the
// decoder's business and not listed.
func sg(tag string, r req, max int) entry { return entry{seg: tag, req: r, max: max} }

func lp(id string, r req, max int, entries ...entry) entry {
	return entry{loop: &loopDef{id: id, entries: entries}, req: r, max: max}
}

const (
	reqM = mandatory
	reqO = optional
)

// n1Loop850 is the header N1 loop of the 850 and 855.
var n1Loop850 = lp("N1", reqO, 200,
	sg("N1", reqO, 1), sg("N2", reqO, 2), sg("N3", reqO, 2), sg("N4", reqO, 0), sg("NX2", reqO, 0), sg("REF", reqO, 12),
	sg("PER", reqO, 0), sg("SI", reqO, 0), sg("FOB", reqO, 1), sg("TD1", reqO, 2), sg("TD5", reqO, 12), sg("TD3", reqO, 12),
	sg("TD4", reqO, 5), sg("PKG", reqO, 200))

var header850 = []entry{
	sg("BEG", reqM, 1), sg("NTE", reqO, 100), sg("CUR", reqO, 1), sg("REF", reqO, 0), sg("PER", reqO, 3), sg("TAX", reqO, 0), sg("FOB", reqO, 0),
	sg("CTP", reqO, 0), sg("PAM", reqO, 10), sg("CSH", reqO, 5), sg("TC2", reqO, 0),
	lp("SAC", reqO, 25, sg("SAC", reqO, 1), sg("CUR", reqO, 1)),
	sg("ITD", reqO, 0), sg("DIS", reqO, 20), sg("INC", reqO, 1), sg("DTM", reqO, 10), sg("LDT", reqO, 12), sg("LIN", reqO, 5),
	sg("SI", reqO, 0), sg("PID", reqO, 200), sg("MEA", reqO, 40), sg("PWK", reqO, 25), sg("PKG", reqO, 200), sg("TD1", reqO, 2),
	sg("TD5", reqO, 12), sg("TD3", reqO, 12), sg("TD4", reqO, 5), sg("MAN", reqO, 10), sg("PCT", reqO, 0), sg("CTB", reqO, 5), sg("TXI", reqO, 0),
	lp("AMT", reqO, 0, sg("AMT", reqO, 1), sg("REF", reqO, 0), sg("DTM", reqO, 1), sg("PCT", reqO, 0)),
	lp("N9", reqO, 1000, sg("N9", reqO, 1), sg("DTM", reqO, 0), sg("MSG", reqO, 1000)),
	n1Loop850,
	lp("LM", reqO, 0, sg("LM", reqO, 1), sg("LQ", reqM, 0)),
	lp("SPI", reqO, 0, sg("SPI", reqO, 1), sg("REF", reqO, 5), sg("DTM", reqO, 5), sg("MSG", reqO, 50)),
	lp("ADV", reqO, 0, sg("ADV", reqO, 1), sg("DTM", reqO, 0), sg("MTX", reqO, 0)),
}

func po1Loop(ack bool) entry {
	entries := []entry{
		sg("PO1", reqM, 1), sg("LIN", reqO, 0), sg("SI", reqO, 0), sg("CUR", reqO, 1), sg("CN1", reqO, 1), sg("PO3", reqO, 25),
		lp("CTP", reqO, 0, sg("CTP", reqO, 1), sg("CUR", reqO, 1)),
		sg("PAM", reqO, 10), sg("MEA", reqO, 40),
		lp("PID", reqO, 1000, sg("PID", reqO, 1), sg("MEA", reqO, 10)),
		sg("PWK", reqO, 25), sg("PO4", reqO, 0), sg("REF", reqO, 0), sg("PER", reqO, 3),
		lp("SAC", reqO, 25, sg("SAC", reqO, 1), sg("CUR", reqO, 1)),
		sg("IT8", reqO, 1), sg("CSH", reqO, 0), sg("ITD", reqO, 2), sg("DIS", reqO, 20), sg("INC", reqO, 1), sg("TAX", reqO, 0), sg("FOB", reqO, 0),
		sg("SDQ", reqO, 500), sg("IT3", reqO, 5), sg("DTM", reqO, 10),
	}
	if ack {
		entries = append(entries, lp("ACK", reqO, 104, sg("ACK", reqO, 1), sg("DTM", reqO, 1)))
	}
	entries = append(entries,
		sg("TC2", reqO, 0), sg("TD1", reqO, 1), sg("TD5", reqO, 12), sg("TD3", reqO, 12), sg("TD4", reqO, 5), sg("PCT", reqO, 0), sg("MAN", reqO, 10),
		sg("NTE", reqO, 100), sg("MSG", reqO, 12), sg("SPI", reqO, 0), sg("TXI", reqO, 0), sg("CTB", reqO, 0),
		lp("QTY", reqO, 0, sg("QTY", reqO, 1), sg("SI", reqO, 0)),
		lp("SCH", reqO, 200, sg("SCH", reqO, 1), sg("TD1", reqO, 2), sg("TD5", reqO, 12), sg("TD3", reqO, 12), sg("TD4", reqO, 5), sg("REF", reqO, 0)),
		sg("PKG", reqO, 200), sg("LS", reqO, 1),
		lp("LDT", reqO, 0, sg("LDT", reqO, 1), sg("QTY", reqO, 0), sg("MSG", reqO, 0), sg("REF", reqO, 3)),
		sg("LE", reqO, 1),
		lp("N9", reqO, 1000, sg("N9", reqO, 1), sg("DTM", reqO, 0), sg("MEA", reqO, 40), sg("MSG", reqO, 1000)),
		lp("N1", reqO, 200, sg("N1", reqO, 1), sg("N2", reqO, 2), sg("N3", reqO, 2), sg("N4", reqO, 1), sg("QTY", reqO, 0), sg("NX2", reqO, 0),
			sg("REF", reqO, 12), sg("PER", reqO, 3), sg("SI", reqO, 0), sg("DTM", reqO, 1), sg("FOB", reqO, 1), sg("SCH", reqO, 200),
			sg("TD1", reqO, 2), sg("TD5", reqO, 12), sg("TD3", reqO, 12), sg("TD4", reqO, 5), sg("PKG", reqO, 200)),
		lp("SLN", reqO, 1000, sg("SLN", reqO, 1), sg("MSG", reqO, 0), sg("SI", reqO, 0), sg("PID", reqO, 1000), sg("PO3", reqO, 104),
			sg("TC2", reqO, 0), sg("ADV", reqO, 0), sg("DTM", reqO, 10), sg("CTP", reqO, 25), sg("PAM", reqO, 10), sg("PO4", reqO, 1), sg("TAX", reqO, 3)),
		lp("AMT", reqO, 0, sg("AMT", reqO, 1), sg("REF", reqO, 1), sg("PCT", reqO, 0)),
	)
	r := reqO
	if !ack {
		r = reqM
	}
	return lp("PO1", r, 100000, entries...)
}

var summary = lp("CTT", reqO, 1, sg("CTT", reqO, 1), sg("AMT", reqO, 1))

var structure850 = &loopDef{id: "", entries: append(append([]entry{}, header850...), po1Loop(false), summary)}

var structure855 = &loopDef{id: "", entries: append(append([]entry{
	sg("BAK", reqM, 1), sg("NTE", reqO, 100), sg("CUR", reqO, 1), sg("REF", reqO, 0), sg("PER", reqO, 3), sg("TAX", reqO, 0), sg("FOB", reqO, 0),
	sg("CTP", reqO, 0), sg("PAM", reqO, 10), sg("CSH", reqO, 5),
	lp("SAC", reqO, 25, sg("SAC", reqO, 1), sg("CUR", reqO, 1)),
	sg("ITD", reqO, 0), sg("DIS", reqO, 20), sg("INC", reqO, 1), sg("DTM", reqO, 10), sg("LDT", reqO, 12), sg("LIN", reqO, 5),
	sg("SI", reqO, 0), sg("PID", reqO, 200), sg("MEA", reqO, 40), sg("PWK", reqO, 25), sg("PKG", reqO, 200), sg("TD1", reqO, 2),
	sg("TD5", reqO, 12), sg("TD3", reqO, 12), sg("TD4", reqO, 5), sg("MAN", reqO, 10), sg("TXI", reqO, 0), sg("CTB", reqO, 0),
	lp("N9", reqO, 1000, sg("N9", reqO, 1), sg("DTM", reqO, 0), sg("MSG", reqO, 1000)),
	n1Loop850,
	lp("ADV", reqO, 0, sg("ADV", reqO, 1), sg("DTM", reqO, 0), sg("MTX", reqO, 0)),
}, po1Loop(true)), summary)}

var structure997 = &loopDef{entries: []entry{
	sg("AK1", reqM, 1),
	lp("AK2", reqO, 0, sg("AK2", reqO, 1),
		lp("AK3", reqO, 0, sg("AK3", reqO, 1), sg("AK4", reqO, 99)),
		sg("AK5", reqM, 1)),
	sg("AK9", reqM, 1),
}}

var structure999 = &loopDef{entries: []entry{
	sg("AK1", reqM, 1),
	lp("AK2", reqO, 0, sg("AK2", reqO, 1),
		lp("IK3", reqO, 0, sg("IK3", reqO, 1), sg("CTX", reqO, 10),
			lp("IK4", reqO, 99, sg("IK4", reqO, 1), sg("CTX", reqO, 10))),
		sg("IK5", reqM, 1)),
	sg("AK9", reqM, 1),
}}

// setDef is a transaction set of the dictionary in one version family.
type setDef struct {
	id        string
	structure *loopDef
	segs      map[string]*segDef
	tags      map[string]bool // every tag the structure uses
	// byID holds the segment definitions by tag ID (segs indexed).
	byID []*segDef
}

// segDef returns the definition of the segment with tag ID id, nil
// when there is none.
func (d *setDef) segDef(id uint8) *segDef {
	if int(id) < len(d.byID) {
		return d.byID[id]
	}
	return nil
}

func newSetDef(id string, s *loopDef, segs map[string]*segDef) *setDef {
	d := &setDef{id: id, structure: s, segs: segs, tags: map[string]bool{}}
	s.buildIndex()
	defer func() {
		d.byID = make([]*segDef, maxTagID()+1)
		for tag := range d.tags {
			d.byID[tagID(tag)] = segs[tag]
			if sd := segs[tag]; sd != nil {
				sd.index()
			}
		}
	}()
	var walk func(l *loopDef)
	walk = func(l *loopDef) {
		for _, e := range l.entries {
			if e.loop != nil {
				walk(e.loop)
			} else {
				d.tags[e.seg] = true
			}
		}
	}
	walk(s)
	return d
}

var (
	set850v4 = newSetDef("850", structure850, segments4010)
	set850v5 = newSetDef("850", structure850, segments5010)
	set855v4 = newSetDef("855", structure855, segments4010)
	set855v5 = newSetDef("855", structure855, segments5010)
	set997v4 = newSetDef("997", structure997, segments4010)
	set997v5 = newSetDef("997", structure997, segments5010)
	set999v5 = newSetDef("999", structure999, segments5010)
)

// lookupSet returns the dictionary of a transaction set in the version
// of its group (GS08), or nil when the set is not in the dictionary.
// Versions before 005010 use the 4010 definitions.
func lookupSet(id, version string) *setDef {
	v5 := len(version) >= 6 && version[:6] >= "005010"
	switch id {
	case "850":
		if v5 {
			return set850v5
		}
		return set850v4
	case "855":
		if v5 {
			return set855v5
		}
		return set855v4
	case "997":
		if v5 {
			return set997v5
		}
		return set997v4
	case "999":
		return set999v5
	}
	return nil
}
