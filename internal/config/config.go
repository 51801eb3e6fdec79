package config

import (
	"time"
)

// Config is one configuration file, decoded, with defaults applied.
type Config struct {
	Store      Store      `mapstructure:"store"`
	HTTP       HTTP       `mapstructure:"http"`
	Log        Log        `mapstructure:"log"`
	Pipeline   Pipeline   `mapstructure:"pipeline"`
	Partners   []Partner  `mapstructure:"partners"`
	Channels   []Channel  `mapstructure:"channels"`
	Rules      Rules      `mapstructure:"rules"`
	Routes     []Route    `mapstructure:"routes"`
	Backends   []Backend  `mapstructure:"backends"`
	Masterdata Masterdata `mapstructure:"masterdata"`
	Mail       Mail       `mapstructure:"mail"`
	Capture    Capture    `mapstructure:"capture"`
	Cluster    Cluster    `mapstructure:"cluster"`

	// src remembers the file name, the position of every key and which
	// keys were written; nil for a Config built in Go.
	src *source
}

// File is the path the config was loaded from ("" when built in Go).
func (c *Config) File() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}

// Store drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store says where orders, the queue and the raw documents live.
type Store struct {
	Driver      string        `mapstructure:"driver"`       // sqlite | postgres
	DSN         string        `mapstructure:"dsn"`          // sqlite: file path; postgres: a DSN without password
	DSNEnv      string        `mapstructure:"dsn_env"`      // postgres: env var holding the DSN
	ArchiveDir  string        `mapstructure:"archive_dir"`  // raw documents
	BusyTimeout time.Duration `mapstructure:"busy_timeout"` // SQLite busy_timeout
	// Archive is where the raw documents live: "files" (archive_dir, a
	// shared path when several nodes run) or "database" (the store's
	// database, either driver; archive_dir, when it exists, is then
	// only read, for documents archived there before the switch).
	// Default: database on sqlite, files on postgres.
	Archive  string `mapstructure:"archive"`
	MaxConns int    `mapstructure:"max_conns"` // postgres connection pool size
}

// Archive places.
const (
	ArchiveFiles    = "files"
	ArchiveDatabase = "database"
)

// Cluster is this node's part in a multi-node setup (postgres): its name
// and the leases by which exactly one node polls each channel.
type Cluster struct {
	// Node names this process in leases and logs; the host name and
	// process id when empty.
	Node string `mapstructure:"node"`
	// LeaseTTL is how long a poller's lease lasts without renewal: the
	// bound on fail-over after a node dies (plus LeaseTTL/3).
	LeaseTTL time.Duration `mapstructure:"lease_ttl"`
}

// DSNRef returns where the store's DSN comes from: dsn_env if set.
// A sqlite DSN (a file path) is not a secret; use Store.DSN for it.
func (s Store) DSNRef() SecretRef {
	return SecretRef{Key: "store.dsn", Env: s.DSNEnv}
}

// HTTP is the web UI and API listener.
type HTTP struct {
	Listen        string   `mapstructure:"listen"`
	AdminTokenEnv string   `mapstructure:"admin_token_env"`
	TLSCertFile   string   `mapstructure:"tls_cert_file"`
	TLSKeyFile    string   `mapstructure:"tls_key_file"`
	MaxBodyBytes  ByteSize `mapstructure:"max_body_bytes"`
	PublicURL     string   `mapstructure:"public_url"`
}

// AdminToken returns the reference to the admin API token.
func (h HTTP) AdminToken() SecretRef {
	return SecretRef{Key: "http.admin_token", Env: h.AdminTokenEnv}
}

// Log configures the process logger.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // text | json
}

// Pipeline tunes the stage handlers.
type Pipeline struct {
	BatchSize    int           `mapstructure:"batch_size"`
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Consumers is how many subscribers each stage runs per node: 1 on
	// sqlite, 4 on postgres when zero.
	Consumers int `mapstructure:"consumers"`
	// IntakeBacklog is how many documents and orders may wait for the
	// parse and normalize stages before the intake of pulled channels
	// (folders, SFTP, mailboxes) pauses: 256 when zero, no limit when -1.
	IntakeBacklog int `mapstructure:"intake_backlog"`
	// Broker, when set, carries the stage messages: each stage still
	// writes them into the database's outbox in its transaction, and a
	// forwarder on every node moves them to the broker.
	Broker          Broker        `mapstructure:"broker"`
	Retry           Retry         `mapstructure:"retry"`
	DrainTimeout    time.Duration `mapstructure:"drain_timeout"`
	DuplicateWindow time.Duration `mapstructure:"duplicate_window"`
}

// Broker types of pipeline.broker.
const (
	BrokerRabbitMQ = "rabbitmq"
	BrokerNATS     = "nats"
)

// Broker is the optional message broker of the pipeline's stages.
type Broker struct {
	Type   string `mapstructure:"type"`    // "" (none) | rabbitmq | nats
	URLEnv string `mapstructure:"url_env"` // env var with the broker URL (it carries credentials)
	// Prefix goes before every queue, stream and subject name, so that
	// several gateways can share a broker.
	Prefix string `mapstructure:"prefix"`
}

// URLRef returns the reference to the broker's URL.
func (b Broker) URLRef() SecretRef {
	return SecretRef{Key: "pipeline.broker.url", Env: b.URLEnv}
}

// Retry is the pipeline's retry policy for transient errors.
type Retry struct {
	MaxAttempts     int           `mapstructure:"max_attempts"`
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
}

// Partner is a trading partner: who they are on the wire and how we answer.
type Partner struct {
	ID         string       `mapstructure:"id"`
	Name       string       `mapstructure:"name"`
	CustomerID string       `mapstructure:"customer_id"`
	Match      PartnerMatch `mapstructure:"match"`
	Acks       Acks         `mapstructure:"acks"`
	Duplicates string       `mapstructure:"duplicates"` // reject | ack-and-drop | hold | change
	// PricePolicy and ItemPolicy override rules.price_policy and
	// rules.items.policy for this partner's orders.
	PricePolicy string          `mapstructure:"price_policy"`
	ItemPolicy  string          `mapstructure:"item_policy"`
	X12         X12Settings     `mapstructure:"x12"`
	EDIFACT     EDIFACTSettings `mapstructure:"edifact"`
}

// PartnerMatch says which incoming documents belong to a partner.
type PartnerMatch struct {
	X12       []PartyID `mapstructure:"x12"`        // ISA05/ISA06
	EDIFACT   []PartyID `mapstructure:"edifact"`    // UNB 0007/0004
	EmailFrom []string  `mapstructure:"email_from"` // address globs
	Channels  []string  `mapstructure:"channels"`   // every document from these channels
}

// PartyID is an interchange sender: a qualifier (empty matches any) and an id.
type PartyID struct {
	Qualifier string `mapstructure:"qualifier"`
	ID        string `mapstructure:"id"`
}

// Acks says which acknowledgements and responses a partner gets.
type Acks struct {
	Functional      string `mapstructure:"functional"`       // 997 | 999 | none
	TA1             string `mapstructure:"ta1"`              // requested | errors | always | never
	CONTRL          string `mapstructure:"contrl"`           // requested | always | never
	OrderResponse   string `mapstructure:"order_response"`   // 855 | ordrsp | email | none
	PendingResponse bool   `mapstructure:"pending_response"` // answer held orders at once too
	Via             string `mapstructure:"via"`              // outbound channel; "" = the channel it came from
}

// X12Settings is what we put in the X12 we send a partner.
type X12Settings struct {
	Element      string `mapstructure:"element"`
	Component    string `mapstructure:"component"`
	Segment      string `mapstructure:"segment"`
	Repetition   string `mapstructure:"repetition"`
	OurQualifier string `mapstructure:"our_qualifier"`
	OurID        string `mapstructure:"our_id"`
}

// EDIFACTSettings is what we put in the EDIFACT we send a partner.
type EDIFACTSettings struct {
	UNA          string `mapstructure:"una"`    // 6 characters: : + . ? space '
	Syntax       string `mapstructure:"syntax"` // e.g. UNOC:3
	OurQualifier string `mapstructure:"our_qualifier"`
	OurID        string `mapstructure:"our_id"`
}

// Channel types.
const (
	ChannelDir        = "dir"
	ChannelSFTP       = "sftp"
	ChannelSFTPServer = "sftpserver"
	ChannelIMAP       = "imap"
	ChannelWeb        = "web"
	ChannelDesk       = "desk"
)

// Channel is one way documents come in (and, for dir, sftp and sftpserver,
// acknowledgements go out). Which fields apply depends on Type; a key that
// does not belong to the type is a validation error.
type Channel struct {
	Name    string `mapstructure:"name"`
	Type    string `mapstructure:"type"`
	Enabled bool   `mapstructure:"enabled"`

	// dir and sftp
	Path         string        `mapstructure:"path"` // dir: the inbox folder
	DoneDir      string        `mapstructure:"done_dir"`
	ErrorDir     string        `mapstructure:"error_dir"`
	Outbox       string        `mapstructure:"outbox"`
	Patterns     []string      `mapstructure:"patterns"`
	Poll         time.Duration `mapstructure:"poll"` // also imap
	MinAge       time.Duration `mapstructure:"min_age"`
	DoneFile     string        `mapstructure:"done_file"`
	Partner      string        `mapstructure:"partner"`
	MaxFileBytes ByteSize      `mapstructure:"max_file_bytes"` // also sftpserver

	// sftp and imap
	Host         string `mapstructure:"host"`
	Port         int    `mapstructure:"port"`
	User         string `mapstructure:"user"`
	PasswordEnv  string `mapstructure:"password_env"`
	PasswordFile string `mapstructure:"password_file"`

	// sftp
	PrivateKeyFile          string `mapstructure:"private_key_file"`
	PrivateKeyPassphraseEnv string `mapstructure:"private_key_passphrase_env"`
	KnownHosts              string `mapstructure:"known_hosts"`
	HostKeyFingerprint      string `mapstructure:"host_key_fingerprint"`
	Inbox                   string `mapstructure:"inbox"`
	Archive                 string `mapstructure:"archive"`
	DeleteAfterIngest       bool   `mapstructure:"delete_after_ingest"`
	MaxFilesPerPoll         int    `mapstructure:"max_files_per_poll"`
	MaxConcurrent           int    `mapstructure:"max_concurrent"`
	PageSize                int    `mapstructure:"page_size"`

	// sftpserver
	Listen      string     `mapstructure:"listen"`
	HostKeyFile string     `mapstructure:"host_key_file"`
	RootDir     string     `mapstructure:"root_dir"`
	QuotaBytes  ByteSize   `mapstructure:"quota_bytes"`
	Users       []SFTPUser `mapstructure:"users"`
	// imap
	TLS               string   `mapstructure:"tls"` // implicit | starttls | none
	InsecurePlaintext bool     `mapstructure:"insecure_plaintext"`
	Mailbox           string   `mapstructure:"mailbox"`
	ErrorMailbox      string   `mapstructure:"error_mailbox"` // rejected mails are moved here (else only flagged)
	CAFile            string   `mapstructure:"ca_file"`       // imap: a private CA for the server's certificate
	DoneMailbox       string   `mapstructure:"done_mailbox"`
	AfterIngest       string   `mapstructure:"after_ingest"` // move | flag
	Kind              string   `mapstructure:"kind"`         // auto | fax | email
	FaxSenders        []string `mapstructure:"fax_senders"`
	MaxMessageBytes   ByteSize `mapstructure:"max_message_bytes"`
	Idle              bool     `mapstructure:"idle"`
	// PleaseResend: a fax or order mail nothing could be read from gets a
	// "please resend" mail (when mail is configured).
	PleaseResend bool `mapstructure:"please_resend"`

	// web
	MaxBodyBytes ByteSize `mapstructure:"max_body_bytes"`
}

// Password returns the reference to the channel's password (sftp, imap).
func (ch Channel) Password() SecretRef {
	return SecretRef{Key: "password", Env: ch.PasswordEnv, File: ch.PasswordFile}
}

// PrivateKeyPassphrase returns the reference to the sftp key's passphrase.
func (ch Channel) PrivateKeyPassphrase() SecretRef {
	return SecretRef{Key: "private_key_passphrase", Env: ch.PrivateKeyPassphraseEnv}
}

// SFTPUser is a partner account on our SFTP server.
type SFTPUser struct {
	Name               string   `mapstructure:"name"`
	Partner            string   `mapstructure:"partner"`
	AuthorizedKeysFile string   `mapstructure:"authorized_keys_file"`
	PublicKeys         []string `mapstructure:"public_keys"` // authorized_keys lines
}

// Rules configures the decision stage.
type Rules struct {
	CreditLimit     Toggle     `mapstructure:"credit_limit"`
	Approvals       []Approval `mapstructure:"approvals"`
	PriceTolerance  Percent    `mapstructure:"price_tolerance"` // unset: no price check
	PricePolicy     string     `mapstructure:"price_policy"`    // hold | note | correct
	Customers       Toggle     `mapstructure:"customers"`       // hold orders of customers not in master data
	Items           ItemsRule  `mapstructure:"items"`
	NotesToSalesRep NotesRule  `mapstructure:"notes_to_sales_rep"`
	// HoldRoles names the role that clears each rule's holds (credit_limit,
	// price, item, customer, duplicate, notes); approvals name their own.
	HoldRoles map[string]string `mapstructure:"hold_roles"`
}

// ItemsRule checks lines against the product master.
type ItemsRule struct {
	Enabled bool   `mapstructure:"enabled"`
	Policy  string `mapstructure:"policy"` // hold | adjust | reject
}

// NotesRule makes customers' notes tasks for their sales rep.
type NotesRule struct {
	Enabled bool `mapstructure:"enabled"`
	Wait    bool `mapstructure:"wait"` // the order waits until the rep releases it
}

// Toggle is a rule that is on or off.
type Toggle struct {
	Enabled bool `mapstructure:"enabled"`
}

// Approval holds orders matching When for a role, or a chain of roles.
type Approval struct {
	Name   string   `mapstructure:"name"`
	When   string   `mapstructure:"when"`
	Role   string   `mapstructure:"role"`
	Levels []string `mapstructure:"levels"`
}

// Route formats.
const (
	FormatJSON          = "json"
	FormatCSV           = "csv"
	FormatX12850        = "x12-850"
	FormatEDIFACTOrders = "edifact-orders"
)

// Route sends accepted orders matching When to backends. Routes are tried
// in order; the first match wins unless it says continue.
type Route struct {
	Name     string   `mapstructure:"name"`
	When     string   `mapstructure:"when"` // empty: every order (the default route)
	To       []string `mapstructure:"to"`   // backend names; a single name is a list of one
	Format   string   `mapstructure:"format"`
	Continue bool     `mapstructure:"continue"`
}

// Backend types.
const (
	BackendFiledrop = "filedrop"
	BackendWebhook  = "webhook"
	BackendSFTP     = "sftp"
	BackendRabbitMQ = "rabbitmq"
	BackendNATS     = "nats"
)

// Backend is where routed orders are delivered. Which fields apply depends
// on Type.
type Backend struct {
	Name string `mapstructure:"name"`
	Type string `mapstructure:"type"`

	Dir        string        `mapstructure:"dir"` // filedrop, sftp
	URL        string        `mapstructure:"url"` // webhook, nats
	SecretEnv  string        `mapstructure:"secret_env"`
	SecretFile string        `mapstructure:"secret_file"`
	Timeout    time.Duration `mapstructure:"timeout"`
	Channel    string        `mapstructure:"channel"` // sftp: an sftp channel
	Format     string        `mapstructure:"format"`  // used when the route sets none
	URLEnv     string        `mapstructure:"url_env"` // rabbitmq
	Queue      string        `mapstructure:"queue"`
	Exchange   string        `mapstructure:"exchange"`
	Subject    string        `mapstructure:"subject"` // nats
	Stream     string        `mapstructure:"stream"`
	RoutingKey string        `mapstructure:"routing_key"` // rabbitmq with exchange
	CAFile     string        `mapstructure:"ca_file"`     // webhook: a private CA
	RefHeader  string        `mapstructure:"ref_header"`  // webhook: the response header with the backend's reference
	RefField   string        `mapstructure:"ref_field"`   // webhook: the JSON field with it (default id)
	// Our and the backend's interchange ids in rendered X12 850 and
	// EDIFACT ORDERS (defaults ZZ/ORDERGATE and ZZ/<NAME>).
	SenderQualifier   string `mapstructure:"sender_qualifier"`
	SenderID          string `mapstructure:"sender_id"`
	ReceiverQualifier string `mapstructure:"receiver_qualifier"`
	ReceiverID        string `mapstructure:"receiver_id"`

	MaxAttempts    int           `mapstructure:"max_attempts"`
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`
	MaxBackoff     time.Duration `mapstructure:"max_backoff"`
}

// Secret returns the reference to a webhook's signing secret.
func (b Backend) Secret() SecretRef {
	return SecretRef{Key: "secret", Env: b.SecretEnv, File: b.SecretFile}
}

// URLRef returns the reference to a rabbitmq URL (it carries credentials).
func (b Backend) URLRef() SecretRef {
	return SecretRef{Key: "url", Env: b.URLEnv}
}

// Masterdata lists the master data files loaded at start.
// Capture configures reading faxes and order mails into draft orders.
type Capture struct {
	// Profiles is a YAML file of per-sender profiles (overrides of the
	// template-free reading: locale, date order, labels, regions,
	// columns). Default: none.
	Profiles string `mapstructure:"profiles"`
	// Threshold is the confidence below which a field needs a person
	// (the draft goes to review). Default: 0.9.
	Threshold float64 `mapstructure:"threshold"`
	// Country is the calling code national phone and fax numbers are read
	// in. Default: 49.
	Country string `mapstructure:"country"`
}

// Mail is how the gateway sends e-mail: sales reps' tasks, order
// confirmations to customers who order by e-mail, fax, web or phone.
type Mail struct {
	SMTP    SMTP   `mapstructure:"smtp"`
	From    string `mapstructure:"from"`    // "Orders <orders@example.com>"
	Company string `mapstructure:"company"` // signs the mails
	// Confirmations: answer accepted, changed and rejected orders of the
	// e-mail, fax, web and phone channels with an e-mail to the customer.
	Confirmations MailConfirmations `mapstructure:"confirmations"`
}

// MailConfirmations are the e-mail answers to the orders of the e-mail,
// fax, web and phone channels.
type MailConfirmations struct {
	Enabled bool `mapstructure:"enabled"`
	// PendingResponse also answers a held order at once ("received,
	// pending review"), as a partner's acks.pending_response does.
	PendingResponse bool `mapstructure:"pending_response"`
}

// SMTP is the submission server.
type SMTP struct {
	Host              string `mapstructure:"host"` // "" disables mail
	Port              int    `mapstructure:"port"`
	TLS               string `mapstructure:"tls"` // starttls | implicit | none
	InsecurePlaintext bool   `mapstructure:"insecure_plaintext"`
	CAFile            string `mapstructure:"ca_file"`
	User              string `mapstructure:"user"`
	PasswordEnv       string `mapstructure:"password_env"`
	PasswordFile      string `mapstructure:"password_file"`
}

// Password is the SMTP password's reference.
func (s SMTP) Password() SecretRef {
	return SecretRef{Key: "mail.smtp.password", Env: s.PasswordEnv, File: s.PasswordFile}
}

// Enabled reports whether mail can be sent.
func (m Mail) Enabled() bool { return m.SMTP.Host != "" }

type Masterdata struct {
	Load []MasterdataFile `mapstructure:"load"`
}

// MasterdataFile is one file of customers, products, prices, xrefs or
// exchange rates.
type MasterdataFile struct {
	Kind string `mapstructure:"kind"`
	File string `mapstructure:"file"`
}

// Partner returns the partner with the id, if any.
func (c *Config) Partner(id string) (Partner, bool) {
	for _, p := range c.Partners {
		if p.ID == id {
			return p, true
		}
	}
	return Partner{}, false
}

// Channel returns the channel with the name, if any.
func (c *Config) Channel(name string) (Channel, bool) {
	for _, ch := range c.Channels {
		if ch.Name == name {
			return ch, true
		}
	}
	return Channel{}, false
}

// Backend returns the backend with the name, if any.
func (c *Config) Backend(name string) (Backend, bool) {
	for _, b := range c.Backends {
		if b.Name == name {
			return b, true
		}
	}
	return Backend{}, false
}

// DeliveryFormat is the format a route delivers to a backend in: the
// route's format, else the backend's, else json.
func (c *Config) DeliveryFormat(r Route, backend string) string {
	if r.Format != "" {
		return r.Format
	}
	if b, ok := c.Backend(backend); ok && b.Format != "" {
		return b.Format
	}
	return FormatJSON
}
