package nbd

// Wire constants of the NBD protocol
// (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md):
// the fixed newstyle handshake and simple replies, nothing else.
const (
	magicInit      = 0x4e42444d41474943 // "NBDMAGIC"
	magicOpt       = 0x49484156454f5054 // "IHAVEOPT"
	magicOptReply  = 0x3e889045565a9
	magicRequest   = 0x25609513
	magicSimpleRep = 0x67446698

	flagFixedNewstyle = 1 << 0 // handshake flags (server) and client flags
	flagNoZeroes      = 1 << 1

	optExportName = 1
	optAbort      = 2
	optInfo       = 6
	optGo         = 7

	repAck       = 1
	repInfo      = 3
	repErrUnsup  = 1<<31 | 1
	repErrInval  = 1<<31 | 3
	repErrUnknwn = 1<<31 | 6

	infoExport = 0

	// Transmission flags: read-only, and several connections may read
	// at once (nothing is ever written, so they always agree).
	transHasFlags  = 1 << 0
	transReadOnly  = 1 << 1
	transSendFlush = 1 << 2
	transMultiConn = 1 << 8

	cmdRead  = 0
	cmdWrite = 1
	cmdDisc  = 2
	cmdFlush = 3

	errPerm  = 1
	errIO    = 5
	errInval = 22
)

// Limits the server enforces on what a client sends.
const (
	maxOptionLen  = 4096     // an option's data: export names and info requests
	maxRequestLen = 32 << 20 // one read (QEMU's client asks for at most 32 MiB)
	maxInFlight   = 16       // reads being served at once per connection
)
