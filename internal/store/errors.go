package store

import "errors"

// Errors reported by the store. Test for them with errors.Is.
var (
	// ErrNotFound: no row with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: an optimistic update met a newer revision.
	ErrConflict = errors.New("store: revision conflict")
	// ErrTransition: the row is not in a state that allows the change.
	ErrTransition = errors.New("store: state transition not allowed")
	// ErrInvalid: an argument is missing or not one of the known values.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrInvalidCursor: a pagination cursor was not made by this store.
	ErrInvalidCursor = errors.New("store: invalid cursor")
	// ErrMissingContent: a row would refer to a hash the archive lacks.
	ErrMissingContent = errors.New("store: content missing from the archive")
	// ErrSchemaTooNew: the database was migrated by a newer binary.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrSchemaTooOld: the database lacks migrations and Open was told not
	// to apply them (Options.SkipMigrate): run Migrate ("ordergate
	// migrate").
	ErrSchemaTooOld = errors.New("store: database schema is older than this binary")
	// ErrUnsafeSettings: a connection's SQLite settings would risk data.
	ErrUnsafeSettings = errors.New("store: unsafe SQLite settings")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)
