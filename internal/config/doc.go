// Package config turns one YAML file into the gateway's typed [Config].
//
// # Model
//
// A [Config] is the whole file: store, http, log, pipeline, partners,
// channels, rules, routes, backends and masterdata. Keys are snake_case and
// documented, one comment each, in config.example.yaml at the repository
// root. The file is read with viper and decoded with UnmarshalExact, so an
// unknown key is an error; the same bytes are parsed a second time into a
// yaml.Node tree only to know where each key is (file:line) and which keys
// were written at all (a key written as false or 0s is not replaced by a
// default).
//
// Loading happens in three steps:
//
//   - decoding ([Load], [Check], [Parse]): YAML syntax, unknown keys, value
//     types (durations need a unit, sizes accept 10MiB, percentages are
//     exact decimals such as "0.5%");
//   - defaults (setDefaults), which depend on what the file says, e.g. a
//     dir channel's done_dir defaults to <path>/done;
//   - static validation ([Config.Validate]): enums, required keys, keys that
//     do not belong to a channel or backend type, cross references
//     (partners, channels, routes, backends), unreachable routes, a missing
//     default route, secrets written inline. It needs nothing but the file,
//     so `ordergate config check` runs on any machine.
//
// [Config.Preflight] is a fourth, separate step for `ordergate serve`: it
// checks that the environment variables named by *_env keys are set and
// the files named by *_file keys (and TLS, known_hosts, host keys, master
// data) exist and are readable, for the channels that are enabled. Relative
// paths are relative to the working directory of the process, not to the
// config file.
//
// # Errors
//
// Every problem is a [Problem] {File, Line, Path, Msg} printed as
// "file:line: path: msg". Validation never stops at the first problem:
// [Check] returns them all, [Load] and [Config.Validate] return them as one
// error built with errors.Join whose parts are [Problem] values. Messages
// name channels, partners, backends, hosts and paths where that helps, but
// never repeat the value of a key that could hold a secret, and decoding
// errors (a bad number, a bad duration) never echo the value either, so a
// secret written in the wrong place does not end up in a log. The check
// that a channel or backend has only the keys of its type needs the file's
// key positions; [Config.Validate] on a Config built in Go skips it.
//
// YAML anchors and merge keys (<<) work inside the known structure; there
// is no place for free-standing extension keys (x-...), since every key
// must be known.
//
// # Secrets
//
// Secrets are never in the file: a key named like password, secret, token,
// passphrase, api_key or private_key with an inline value is an error that
// says which *_env or *_file key to use instead; a postgres dsn or a URL
// with a password in it is an error too. A [SecretRef] names where a secret
// lives (an environment variable or a file); [SecretRef.Value] reads it
// into a [Secret], whose String, Format, JSON and slog forms are redacted.
// Only [Secret.Reveal] returns the value.
//
// # Reload
//
// A [Holder] keeps the current *Config behind an atomic pointer. Its Watch
// method reloads on SIGHUP and when the file changes (fsnotify on the
// directory, so editors that write a new file and rename it over the old
// one are seen; debounced). A new file is decoded, validated and
// preflighted, then offered to the apply callback; only if all of that
// succeeds does it become current. Otherwise the running config stays and
// every problem is logged.
//
// # What it does not do
//
// It does not read environment variable overrides (the file is the one
// source of truth), it does not evaluate rule and route expressions (the
// rules engine does; here they only have to be non-empty), and it does not
// connect to anything.
package config
