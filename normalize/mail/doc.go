// Package mail reads order e-mails: Parse decodes one raw RFC 5322
// message (as channels/mailbox hands it over) into headers, sender and
// decoded parts, and Classify tells what the mail is for the gateway and
// picks out the parts that matter.
//
// # Parse
//
// Parse walks the MIME tree (nested multiparts and attached message/rfc822
// mails, forwarded faxes for example), undoes base64 and quoted-printable,
// converts text parts from their charset (ISO-8859-*, Windows-125x,
// Shift_JIS, ... through golang.org/x/text; an unknown or missing charset
// is taken as UTF-8 when valid, else Windows-1252) to UTF-8, decodes RFC
// 2047 words in headers and in (non-standard) quoted filenames, and RFC
// 2231 filenames with continuations in any charset. Attachment names are
// sanitised with channels.SanitizeName. It is bounded by Limits: the whole
// mail, each decoded part, the number of parts and the nesting depth; a
// mail beyond a limit is an error wrapping ErrLimit (the pipeline sends it
// to review), never a partial result, never a crash.
//
// # Classify
//
// Classify decides, in this order: EDI (an attachment named .edi, .x12,
// .edifact, .txt, .dat or with an EDI media type whose bytes edi.Sniff
// recognises as X12 or EDIFACT: it goes straight into the EDI path); fax
// (a PDF or TIFF from a fax service's sender address, or every mail of a
// channel of kind fax); not an order (bulk mail, newsletters, auto-replies,
// delivery reports); e-mail order (CSV or XLSX attachments read into rows,
// a PDF from a customer, or a body text that reads like an order); else
// not an order. Mails that are not orders are kept and visible, not
// processed. XLSX files are read with github.com/xuri/excelize/v2 with
// unzip limits (zip bombs are refused).
//
// The package does no I/O and logs nothing.
package mail
