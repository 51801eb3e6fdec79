// Package ocr runs poppler and tesseract as subprocesses to turn a PDF
// into words with boxes (capture.Document): the text layer of a PDF that
// has one (pdftotext -bbox-layout), else each page rasterised at 300 dpi
// in grey (pdftoppm -r 300 -gray, which also squares the 2:1 pixels of a
// standard-mode fax), cleaned up in Go (threshold, despeckle, deskew by
// projection profile, ruling-line removal) and recognised by tesseract
// (-l deu+eng --psm 6 --dpi 300, TSV output).
//
// Every subprocess runs under prlimit with a CPU-seconds and an
// address-space limit, a timeout, OMP_THREAD_LIMIT=1 (tesseract's threads
// only fight on a shared machine) and in a temporary directory removed
// afterwards. A PDF that is too large, has too many pages or pages too
// large to rasterise, or that poppler cannot read is refused with an
// error wrapping ErrUnreadable; a limit hit is ErrLimit. An image whose
// declared size (pdfimages -list) is over Limits.MaxPixels is refused
// before anything is rasterised, with an error wrapping both (an inflate
// bomb); the prlimit limits are the backstop for what the declared sizes
// do not show.
package ocr
