package ediproc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ordergate/ordergate/edi"
)

func processEDIFACT(ctx context.Context, r io.Reader, file string, opts Options, emit func(*Message) error) (*Summary, error) {
	return &Summary{Standard: edi.EDIFACT, Errors: []error{fmt.Errorf("%s: %w", file, errors.ErrUnsupported)}}, nil
}
