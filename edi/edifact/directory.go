package edifact

// Segment layouts of the D96A directory for the segments of ORDERS and
// ORDRSP that the gateway reads or writes, and the D01B differences (FTX
// C107 4441 is an..3 in D96A: https://stedi.com/edi/edifact/D96A/segments/FTX). The
// other segments of the branching diagrams (ALC, TDT, SCC, ...) are
// placed in the structure but their elements are not checked.
var segmentsD96A = map[string]*SegmentDef{
	"BGM": segDef("BGM", "C002 C(1001 an..3 C, 1131 an..3 C, 3055 an..3 C, 1000 an..35 C); 1004 an..35 C; 1225 an..3 C; 4343 an..3 C"),
	"DTM": segDef("DTM", "C507 M(2005 an..3 M, 2380 an..35 C, 2379 an..3 C)"),
	"PAI": segDef("PAI", "C534 M(4439 an..3 C, 4431 an..3 C, 4461 an..3 C, 1131 an..3 C, 3055 an..3 C, 4435 an..3 C)"),
	"ALI": segDef("ALI", "3239 an..3 C; 9213 an..3 C; 4183 an..3 C; 4183 an..3 C; 4183 an..3 C; 4183 an..3 C; 4183 an..3 C"),
	"IMD": segDef("IMD", "7077 an..3 C; 7081 an..3 C; C273 C(7009 an..17 C, 1131 an..3 C, 3055 an..3 C, 7008 an..35 C, 7008 an..35 C); 7383 an..3 C"),
	"FTX": segDef("FTX", "4451 an..3 M; 4453 an..3 C; C107 C(4441 an..3 M, 1131 an..3 C, 3055 an..3 C); C108 C(4440 an..70 M, 4440 an..70 C, 4440 an..70 C, 4440 an..70 C, 4440 an..70 C); 3453 an..3 C"),
	"RFF": segDef("RFF", "C506 M(1153 an..3 M, 1154 an..35 C, 1156 an..6 C, 4000 an..35 C)"),
	"NAD": segDef("NAD", "3035 an..3 M; C082 C(3039 an..35 M, 1131 an..3 C, 3055 an..3 C); C058 C(3124 an..35 M, 3124 an..35 C, 3124 an..35 C, 3124 an..35 C, 3124 an..35 C); "+
		"C080 C(3036 an..35 M, 3036 an..35 C, 3036 an..35 C, 3036 an..35 C, 3036 an..35 C, 3045 an..3 C); C059 C(3042 an..35 M, 3042 an..35 C, 3042 an..35 C, 3042 an..35 C); "+
		"3164 an..35 C; 3229 an..9 C; 3251 an..9 C; 3207 an..3 C"),
	"LOC": segDef("LOC", "3227 an..3 M; C517 C(3225 an..25 C, 1131 an..3 C, 3055 an..3 C, 3224 an..70 C); C519 C(3223 an..25 C, 1131 an..3 C, 3055 an..3 C, 3222 an..70 C); "+
		"C553 C(3233 an..25 C, 1131 an..3 C, 3055 an..3 C, 3232 an..70 C); 5479 an..3 C"),
	"CTA": segDef("CTA", "3139 an..3 C; C056 C(3413 an..17 C, 3412 an..35 C)"),
	"COM": segDef("COM", "C076 M(3148 an..512 M, 3155 an..3 M)"),
	"TAX": segDef("TAX", "5283 an..3 M; C241 C(5153 an..3 C, 1131 an..3 C, 3055 an..3 C, 5152 an..35 C); C533 C(5289 an..6 M, 1131 an..3 C, 3055 an..3 C); 5286 an..15 C; "+
		"C243 C(5279 an..7 C, 1131 an..3 C, 3055 an..3 C, 5278 an..17 C); 5305 an..3 C; 3446 an..20 C"),
	"CUX": segDef("CUX", "C504 C(6347 an..3 M, 6345 an..3 C, 6343 an..3 C, 6348 n..4 C); C504 C(6347 an..3 M, 6345 an..3 C, 6343 an..3 C, 6348 n..4 C); 5402 n..12 C; 6341 an..3 C"),
	"PAT": segDef("PAT", "4279 an..3 M; C110 C(4277 an..17 C, 1131 an..3 C, 3055 an..3 C, 4276 an..35 C, 4276 an..35 C); C112 C(2475 an..3 M, 2009 an..3 C, 2151 an..3 C, 2152 n..3 C)"),
	"TOD": segDef("TOD", "4055 an..3 C; 4215 an..3 C; C100 C(4053 an..3 C, 1131 an..3 C, 3055 an..3 C, 4052 an..70 C, 4052 an..70 C)"),
	"LIN": segDef("LIN", "1082 n..6 C; 1229 an..3 C; C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C); C829 C(5495 an..3 C, 1082 n..6 C); 1222 n..2 C; 7083 an..3 C"),
	"PIA": segDef("PIA", "4347 an..3 M; C212 M(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C); "+
		"C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..3 C, 3055 an..3 C)"),
	"MEA": segDef("MEA", "6311 an..3 M; C502 C(6313 an..3 C, 6321 an..3 C, 6155 an..17 C, 6154 an..70 C); C174 C(6411 an..3 M, 6314 n..18 C, 6162 n..18 C, 6152 n..18 C, 6432 n..2 C); 7383 an..3 C"),
	"QTY": segDef("QTY", "C186 M(6063 an..3 M, 6060 n..15 M, 6411 an..3 C)"),
	"PRI": segDef("PRI", "C509 C(5125 an..3 M, 5118 n..15 C, 5375 an..3 C, 5387 an..3 C, 5284 n..9 C, 6411 an..3 C); 5213 an..3 C"),
	"MOA": segDef("MOA", "C516 M(5025 an..3 M, 5004 n..18 C, 6345 an..3 C, 6343 an..3 C, 4405 an..3 C)"),
	"UNS": segDef("UNS", "0081 a1 M"),
	"CNT": segDef("CNT", "C270 M(6069 an..3 M, 6066 n..18 M, 6411 an..3 C)"),
	"UNH": segUNH,
	"UNT": segUNT,
}

// D01B differences from D96A in the segments above, checked against the
// D.01B segment pages of Stedi's EDIFACT reference
// (https://stedi.com/edi/edifact/D01B/segments/QTY, .../MOA, .../FTX,
// .../PRI, .../LIN, ...; D01A and D00B pages where D01B was not found in
// full):
//   - 1131 (code list identification) is an..17 in every composite (an..3
//     in D96A);
//   - BGM: C106 document identification (1004, 1056, 1060) replaces 1004;
//   - IMD: C272 item characteristic; C273 7008 an..256 and 3453 language;
//   - FTX: 4441 an..17, 4440 an..512, 4447 free text format code added;
//   - RFF: C506 gains 1060 revision identifier; 1154 is an..70 as in
//     EANCOM 2002 (D00A has an..35, D02B an..70: the longer is accepted);
//   - NAD: C819 country sub-entity details replace 3229 (3228 an..70),
//     3251 an..17;
//   - LIN: 1082 line item identifier an..6 (n..6 in D96A), also in C829;
//   - QTY: 6060 quantity an..35 (n..15 in D96A): the mapping, not the
//     dictionary, rejects a quantity that is not a number;
//   - MOA: 5004 n..35 (n..18 in D96A);
//   - TAX: 1227 calculation sequence code accepted after 3446.
//
// DTM, PRI, CUX and CNT are the same as in D96A.
var segmentsD01B = withChanges(segmentsD96A, map[string]*SegmentDef{
	"BGM": segDef("BGM", "C002 C(1001 an..3 C, 1131 an..17 C, 3055 an..3 C, 1000 an..35 C); C106 C(1004 an..35 C, 1056 an..9 C, 1060 an..6 C); 1225 an..3 C; 4343 an..3 C"),
	"IMD": segDef("IMD", "7077 an..3 C; C272 C(7081 an..3 C, 1131 an..17 C, 3055 an..3 C); C273 C(7009 an..17 C, 1131 an..17 C, 3055 an..3 C, 7008 an..256 C, 7008 an..256 C, 3453 an..3 C); 7383 an..3 C"),
	"FTX": segDef("FTX", "4451 an..3 M; 4453 an..3 C; C107 C(4441 an..17 M, 1131 an..17 C, 3055 an..3 C); C108 C(4440 an..512 M, 4440 an..512 C, 4440 an..512 C, 4440 an..512 C, 4440 an..512 C); 3453 an..3 C; 4447 an..3 C"),
	"RFF": segDef("RFF", "C506 M(1153 an..3 M, 1154 an..70 C, 1156 an..6 C, 4000 an..35 C, 1060 an..6 C)"),
	"NAD": segDef("NAD", "3035 an..3 M; C082 C(3039 an..35 M, 1131 an..17 C, 3055 an..3 C); C058 C(3124 an..35 M, 3124 an..35 C, 3124 an..35 C, 3124 an..35 C, 3124 an..35 C); "+
		"C080 C(3036 an..35 M, 3036 an..35 C, 3036 an..35 C, 3036 an..35 C, 3036 an..35 C, 3045 an..3 C); C059 C(3042 an..35 M, 3042 an..35 C, 3042 an..35 C, 3042 an..35 C); "+
		"3164 an..35 C; C819 C(3229 an..9 C, 1131 an..17 C, 3055 an..3 C, 3228 an..70 C); 3251 an..17 C; 3207 an..3 C"),
	"LIN": segDef("LIN", "1082 an..6 C; 1229 an..3 C; C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C); C829 C(5495 an..3 C, 1082 an..6 C); 1222 n..2 C; 7083 an..3 C"),
	"PIA": segDef("PIA", "4347 an..3 M; C212 M(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C); "+
		"C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C); C212 C(7140 an..35 C, 7143 an..3 C, 1131 an..17 C, 3055 an..3 C)"),
	"QTY": segDef("QTY", "C186 M(6063 an..3 M, 6060 an..35 M, 6411 an..3 C)"),
	"MOA": segDef("MOA", "C516 M(5025 an..3 M, 5004 n..35 C, 6345 an..3 C, 6343 an..3 C, 4405 an..3 C)"),
	"TAX": segDef("TAX", "5283 an..3 M; C241 C(5153 an..3 C, 1131 an..17 C, 3055 an..3 C, 5152 an..35 C); C533 C(5289 an..6 M, 1131 an..17 C, 3055 an..3 C); 5286 an..15 C; "+
		"C243 C(5279 an..7 C, 1131 an..17 C, 3055 an..3 C, 5278 an..17 C); 5305 an..3 C; 3446 an..20 C; 1227 an..3 C"),
})

func withChanges(base, changes map[string]*SegmentDef) map[string]*SegmentDef {
	out := make(map[string]*SegmentDef, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// Service segments (ISO 9735 syntax versions 3 and 4, merged: the
// version 4 additions are accepted in version 3 as conditional).
var (
	segUNB = segDef("UNB", "S001 M(0001 a4 M, 0002 n1 M, 0080 an..6 C, 0133 an..3 C); S002 M(0004 an..35 M, 0007 an..4 C, 0008 an..35 C, 0042 an..35 C); "+
		"S003 M(0010 an..35 M, 0007 an..4 C, 0014 an..35 C, 0046 an..35 C); S004 M(0017 n..8 M, 0019 n4 M); 0020 an..14 M; S005 C(0022 an..14 M, 0025 an2 C); "+
		"0026 an..14 C; 0029 a1 C; 0031 n1 C; 0032 an..35 C; 0035 n1 C")
	segUNZ = segDef("UNZ", "0036 n..6 M; 0020 an..14 M")
	segUNG = segDef("UNG", "0038 an..6 C; S006 M(0040 an..35 M, 0007 an..4 C); S007 M(0044 an..35 M, 0007 an..4 C); S004 M(0017 n..8 M, 0019 n4 M); 0048 an..14 M; 0051 an..3 C; "+
		"S008 C(0052 an..3 M, 0054 an..3 M, 0057 an..6 C); 0058 an..14 C")
	segUNE = segDef("UNE", "0060 n..6 M; 0048 an..14 M")
	segUNH = segDef("UNH", "0062 an..14 M; S009 M(0065 an..6 M, 0052 an..3 M, 0054 an..3 M, 0051 an..3 M, 0057 an..6 C, 0110 an..6 C, 0113 an..6 C); 0068 an..35 C; "+
		"S010 C(0070 n..2 M, 0073 a1 C); S016 C(0115 an..14 M, 0116 an..3 C, 0118 an..3 C, 0051 an..3 C); S017 C(0121 an..14 M, 0122 an..3 C, 0124 an..3 C, 0051 an..3 C); "+
		"S018 C(0127 an..14 M, 0128 an..3 C, 0130 an..3 C, 0051 an..3 C)")
	segUNT = segDef("UNT", "0074 n..6 M; 0062 an..14 M")

	// CONTRL segments, written by Acknowledge.
	segUCI = segDef("UCI", "0020 an..14 M; S002 M(0004 an..35 M, 0007 an..4 C, 0008 an..35 C); S003 M(0010 an..35 M, 0007 an..4 C, 0014 an..35 C); 0083 an..3 M; 0085 an..3 C; 0013 a3 C; S011 C(0098 n..3 M, 0104 n..3 C)")
	segUCF = segDef("UCF", "0048 an..14 M; S006 M(0040 an..35 M, 0007 an..4 C); S007 M(0044 an..35 M, 0007 an..4 C); 0083 an..3 M; 0085 an..3 C; 0013 a3 C; S011 C(0098 n..3 M, 0104 n..3 C)")
	segUCM = segDef("UCM", "0062 an..14 M; S009 M(0065 an..6 M, 0052 an..3 M, 0054 an..3 M, 0051 an..3 M, 0057 an..6 C); 0083 an..3 M; 0085 an..3 C; 0013 a3 C; S011 C(0098 n..3 M, 0104 n..3 C)")
	segUCS = segDef("UCS", "0096 n..6 M; 0085 an..3 C")
	segUCD = segDef("UCD", "0085 an..3 M; S011 M(0098 n..3 M, 0104 n..3 C)")
)

// ordersBody is the ORDERS branching diagram after UNH and before UNT,
// with the group numbers of D96A; groups named name(n) shift in D01B.
func ordersBody(lin, sg1Max int, headerIMD int) []Node {
	return []Node{
		seg("BGM", m, 1), seg("DTM", m, 35), seg("PAI", c, 1), seg("ALI", c, 5), seg("IMD", c, headerIMD), seg("FTX", c, 99),
		grp("SG1", c, sg1Max, seg("RFF", m, 1), seg("DTM", c, 5)),
		grp("SG2", c, 99, seg("NAD", m, 1), seg("LOC", c, 25), seg("FII", c, 5),
			grp("SG3", c, 10, seg("RFF", m, 1), seg("DTM", c, 5)),
			grp("SG4", c, 5, seg("DOC", m, 1), seg("DTM", c, 5)),
			grp("SG5", c, 5, seg("CTA", m, 1), seg("COM", c, 5))),
		grp("SG6", c, 5, seg("TAX", m, 1), seg("MOA", c, 1), seg("LOC", c, 5)),
		grp("SG7", c, 5, seg("CUX", m, 1), seg("PCD", c, 5), seg("DTM", c, 5)),
		grp("SG8", c, 10, seg("PAT", m, 1), seg("DTM", c, 5), seg("PCD", c, 1), seg("MOA", c, 1)),
		grp("SG9", c, 10, seg("TDT", m, 1), grp("SG10", c, 10, seg("LOC", m, 1), seg("DTM", c, 5))),
		grp("SG11", c, 5, seg("TOD", m, 1), seg("LOC", c, 2)),
		grp("SG12", c, 10, seg("PAC", m, 1), seg("MEA", c, 5),
			grp("SG13", c, 5, seg("PCI", m, 1), seg("RFF", c, 1), seg("DTM", c, 5), seg("GIN", c, 10))),
		grp("SG14", c, 10, seg("EQD", m, 1), seg("HAN", c, 5), seg("MEA", c, 5), seg("FTX", c, 5)),
		grp("SG15", c, 10, seg("SCC", m, 1), seg("FTX", c, 5), seg("RFF", c, 5),
			grp("SG16", c, 10, seg("QTY", m, 1), seg("DTM", c, 5))),
		grp("SG17", c, 25, seg("APR", m, 1), seg("DTM", c, 5), seg("RNG", c, 1)),
		allowanceGroup("SG18", 15, 18),
		grp("SG24", c, 100, seg("RCS", m, 1), seg("RFF", c, 5), seg("DTM", c, 5), seg("FTX", c, 5)),
		grp(sg(lin), c, 200000, seg("LIN", m, 1), seg("PIA", c, 25), seg("IMD", c, 99), seg("MEA", c, 99), seg("QTY", c, 99),
			seg("PCD", c, 5), seg("ALI", c, 5), seg("DTM", c, 35), seg("MOA", c, 10), seg("GIN", c, 127), seg("GIR", c, 1000),
			seg("QVR", c, 1), seg("DOC", c, 5), seg("PAI", c, 1), seg("FTX", c, 99),
			grp(sg(lin+1), c, 10, seg("PAT", m, 1), seg("DTM", c, 5), seg("PCD", c, 1), seg("MOA", c, 1)),
			grp(sg(lin+2), c, 25, seg("PRI", m, 1), seg("CUX", c, 1), seg("APR", c, 1), seg("RNG", c, 1), seg("DTM", c, 5)),
			grp(sg(lin+3), c, 10, seg("RFF", m, 1), seg("DTM", c, 5)),
			grp(sg(lin+4), c, 10, seg("PAC", m, 1), seg("MEA", c, 10), seg("QTY", c, 5), seg("DTM", c, 5),
				grp(sg(lin+5), c, 1, seg("RFF", m, 1), seg("DTM", c, 5)),
				grp(sg(lin+6), c, 10, seg("PCI", m, 1), seg("RFF", c, 1), seg("DTM", c, 5), seg("GIN", c, 10))),
			grp(sg(lin+7), c, 9999, seg("LOC", m, 1), seg("QTY", c, 1), seg("DTM", c, 5)),
			grp(sg(lin+8), c, 10, seg("TAX", m, 1), seg("MOA", c, 1), seg("LOC", c, 5)),
			grp(sg(lin+9), c, 999, seg("NAD", m, 1), seg("LOC", c, 5),
				grp(sg(lin+10), c, 5, seg("RFF", m, 1), seg("DTM", c, 5)),
				grp(sg(lin+11), c, 5, seg("DOC", m, 1), seg("DTM", c, 5)),
				grp(sg(lin+12), c, 5, seg("CTA", m, 1), seg("COM", c, 5))),
			allowanceGroup(sg(lin+13), 15, lin+13),
			grp(sg(lin+19), c, 10, seg("TDT", m, 1), grp(sg(lin+20), c, 10, seg("LOC", m, 1), seg("DTM", c, 5))),
			grp(sg(lin+21), c, 5, seg("TOD", m, 1), seg("LOC", c, 2)),
			grp(sg(lin+22), c, 10, seg("EQD", m, 1), seg("HAN", c, 5), seg("MEA", c, 5), seg("FTX", c, 5)),
			grp(sg(lin+23), c, 100, seg("SCC", m, 1), seg("FTX", c, 5), seg("RFF", c, 5),
				grp(sg(lin+24), c, 10, seg("QTY", m, 1), seg("DTM", c, 5))),
			grp(sg(lin+25), c, 100, seg("RCS", m, 1), seg("RFF", c, 5), seg("DTM", c, 5), seg("FTX", c, 5)),
			grp(sg(lin+26), c, 10, seg("STG", m, 1), grp(sg(lin+27), c, 3, seg("QTY", m, 1), seg("MOA", c, 1)))),
		seg("UNS", m, 1), seg("MOA", c, 12), seg("CNT", c, 10),
		grp(sg(lin+28), c, 10, seg("ALC", m, 1), seg("ALI", c, 1), seg("MOA", c, 2)),
	}
}

func allowanceGroup(name string, max, n int) Node {
	return grp(name, c, max, seg("ALC", m, 1), seg("ALI", c, 5), seg("DTM", c, 5),
		grp(sg(n+1), c, 1, seg("QTY", m, 1), seg("RNG", c, 1)),
		grp(sg(n+2), c, 1, seg("PCD", m, 1), seg("RNG", c, 1)),
		grp(sg(n+3), c, 2, seg("MOA", m, 1), seg("RNG", c, 1)),
		grp(sg(n+4), c, 1, seg("RTE", m, 1), seg("RNG", c, 1)),
		grp(sg(n+5), c, 5, seg("TAX", m, 1), seg("MOA", c, 1)))
}

func sg(n int) string { return "SG" + itoa(n) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// ordrspBody is the part of the ORDRSP diagram (D96A) that the gateway
// writes.
func ordrspBody() []Node {
	return []Node{
		seg("BGM", m, 1), seg("DTM", m, 35), seg("PAI", c, 1), seg("ALI", c, 5), seg("IMD", c, 1), seg("FTX", c, 99),
		grp("SG1", c, 10, seg("RFF", m, 1), seg("DTM", c, 5)),
		grp("SG3", c, 99, seg("NAD", m, 1), seg("LOC", c, 25), seg("FII", c, 5),
			grp("SG4", c, 10, seg("RFF", m, 1), seg("DTM", c, 5)),
			grp("SG6", c, 5, seg("CTA", m, 1), seg("COM", c, 5))),
		grp("SG7", c, 5, seg("TAX", m, 1), seg("MOA", c, 1), seg("LOC", c, 5)),
		grp("SG8", c, 5, seg("CUX", m, 1), seg("PCD", c, 5), seg("DTM", c, 5)),
		grp("SG26", c, 200000, seg("LIN", m, 1), seg("PIA", c, 25), seg("IMD", c, 99), seg("MEA", c, 99), seg("QTY", c, 99),
			seg("PCD", c, 5), seg("ALI", c, 5), seg("DTM", c, 35), seg("MOA", c, 10), seg("GIN", c, 127), seg("QVR", c, 1), seg("FTX", c, 99),
			grp("SG28", c, 25, seg("PRI", m, 1), seg("CUX", c, 1), seg("APR", c, 1), seg("RNG", c, 1), seg("DTM", c, 5)),
			grp("SG29", c, 10, seg("RFF", m, 1), seg("DTM", c, 5))),
		seg("UNS", m, 1), seg("MOA", c, 12), seg("CNT", c, 10),
	}
}

func contrlBody() []Node {
	return []Node{
		seg("UCI", m, 1),
		grp("SG1", c, 999999, seg("UCM", m, 1), grp("SG2", c, 999, seg("UCS", m, 1), seg("UCD", c, 99))),
		grp("SG3", c, 999999, seg("UCF", m, 1),
			grp("SG4", c, 999999, seg("UCM", m, 1), grp("SG5", c, 999, seg("UCS", m, 1), seg("UCD", c, 99)))),
	}
}

var segmentsCONTRL = map[string]*SegmentDef{"UCI": segUCI, "UCF": segUCF, "UCM": segUCM, "UCS": segUCS, "UCD": segUCD, "UNH": segUNH, "UNT": segUNT}

// messageDefs are the directories this package validates against, keyed
// "TYPE:VERSION". ORDERS D96A and D01B cover their EANCOM subsets
// (EAN008, EAN010): a subset restricts, it does not add.
var messageDefs = map[string]*MessageDef{
	"ORDERS:D96A": newMessageDef("ORDERS", "D96A", withCodes(segmentsD96A, ordersCodesD96A), ordersBody(25, 10, 1)...),
	"ORDERS:D01B": newMessageDef("ORDERS", "D01B", withCodes(segmentsD01B, ordersCodesD01B), ordersBody(28, 9999, 999)...),
	"ORDRSP:D96A": newMessageDef("ORDRSP", "D96A", segmentsD96A, ordrspBody()...),
	"CONTRL:D3":   newMessageDef("CONTRL", "D3", segmentsCONTRL, contrlBody()...),
}
