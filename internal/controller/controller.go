// Package controller wires the cloud controller (`kumo server`): the store,
// identities, the AWS API listener, the admin listener and metrics. It owns
// the process's long-lived objects and shuts them down in order.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/apiserver"
	"github.com/kumo-cloud/kumo/internal/authz"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/imageimport"
	"github.com/kumo-cloud/kumo/internal/ldapauth"
	"github.com/kumo-cloud/kumo/internal/ldaplogin"
	"github.com/kumo-cloud/kumo/internal/metrics"
	"github.com/kumo-cloud/kumo/internal/nodeserver"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/s3"
	"github.com/kumo-cloud/kumo/internal/s3/backend/remote"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/sts"
)

// Config is what `kumo server` is told on its command line.
type Config struct {
	// OIDCProviders are the OpenID Connect issuers AssumeRoleWithWebIdentity trusts.
	OIDCProviders     []sts.OIDCProvider
	DataDir           string
	Database          string // "" = SQLite in DataDir; postgres://… = PostgreSQL
	EC2Listen         string
	AdminListen       string
	S3Listen          string
	S3Remote          remote.Config // Endpoint set: objects in that S3, else under DataDir/objects
	Region            string
	Zones             []string
	InstanceTypesFile string
	// VCPUOvercommit is how many guest vCPUs a node's CPU carries (0 or 1: none).
	VCPUOvercommit float64
	// PublicIPs is the pool elastic IPs are allocated from (kumo server --public-ips).
	PublicIPs ec2.AddressPool
	Logger    *slog.Logger
	// DemoImage is a directory with the demo guest's vmlinuz and
	// initrd.img (images/demo/build.sh); when set, it is registered at
	// start-up as the public image kumo-demo.
	DemoImage string
	// VolumeBackend is where new volumes' data lives (ec2.Config.VolumeBackend).
	VolumeBackend string
	// VolumeStorageGiB is each account's EBS storage limit per volume type (0: ec2's default).
	VolumeStorageGiB int64
	// NodeListen is the node protocol's address (gRPC over mutual TLS);
	// empty means an ephemeral loopback port (tests).
	NodeListen string
	// NodeNames are extra DNS names or addresses nodes may reach the server
	// by, for its certificate.
	NodeNames []string
	// LDAP, when set, serves POST /kumo/login on the EC2 API listener:
	// directory users log in for temporary credentials (docs/ldap.md).
	LDAP *ldapauth.Config
	// LoginIssuer mints the role sessions LDAP logins get; nil answers
	// the login endpoint with a clear Unsupported error.
	LoginIssuer ldaplogin.Issuer
	// NoWorkers leaves the background workers (imports, snapshot
	// collection) stopped, for tests of the API alone.
	NoWorkers bool
}

// Controller is a running cloud controller.
type Controller struct {
	DB       *store.DB
	Identity *identity.Service
	// STS issues temporary credentials (role sessions for directory
	// logins and instance profiles too).
	STS       *sts.Service
	EC2Addr   net.Addr
	AdminAddr net.Addr
	S3Addr    net.Addr
	NodeAddr  net.Addr
	S3        *s3.Server
	// Snapshots is the snapshot chunk store, for tests that read a snapshot back.
	Snapshots *snapshot.Store
	Admin     admin.Credential
	Images    *admin.Registry
	// Nodes serves `kumo node` agents; `kumo dev` makes join tokens with it.
	Nodes *nodeserver.Server
	// Authorizer decides EC2, IAM, STS (and S3) requests with IAM policies;
	// STS handlers use it for role trust policies and authorization messages.
	Authorizer *authz.Authorizer

	logger       *slog.Logger
	servers      []*http.Server
	errc         chan error
	objects      snapshot.Objects
	snapshots    *snapshot.Store
	importSource imageimport.Source
	stopWorkers  context.CancelFunc
	workers      sync.WaitGroup
}

// Start opens the store and begins serving; listeners are bound when it returns.
func Start(ctx context.Context, cfg Config) (*Controller, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil { // it may have existed with a wider mode
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	db, err := store.Open(ctx, store.Options{DSN: cfg.Database, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	c, err := start(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func start(ctx context.Context, cfg Config, db *store.DB) (c *Controller, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	box, err := secrets.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	types := ec2.DefaultInstanceTypes()
	if cfg.InstanceTypesFile != "" {
		if types, err = ec2.LoadInstanceTypes(cfg.InstanceTypesFile); err != nil {
			return nil, err
		}
	}
	c = &Controller{DB: db, Identity: &identity.Service{DB: db, Box: box}, logger: cfg.Logger, errc: make(chan error, 5)}
	c.STS = &sts.Service{DB: db, Box: box, IAM: &iam.Service{Identity: c.Identity}}
	c.STS.SetOIDCProviders(cfg.OIDCProviders)
	c.Identity.Sessions = c.STS
	ec2Ln, err := net.Listen("tcp", cfg.EC2Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for the EC2 API on %s: %w", cfg.EC2Listen, err)
	}
	undo = append(undo, func() { ec2Ln.Close() })
	adminLn, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return nil, fmt.Errorf("listen for the admin API on %s: %w", cfg.AdminListen, err)
	}
	undo = append(undo, func() { adminLn.Close() })
	c.EC2Addr, c.AdminAddr = ec2Ln.Addr(), adminLn.Addr()
	if c.Admin, err = admin.EnsureCredential(cfg.DataDir, "http://"+c.AdminAddr.String()); err != nil {
		return nil, err
	}
	reg := metrics.New()
	reg.WatchDB(db.Stats)
	if c.Authorizer, err = authz.New(db, c.Identity.Box, cfg.Region); err != nil {
		return nil, err
	}
	c.STS.Decode = func(encoded string) (string, error) { return authz.Decode(c.Identity.Box, encoded) }
	s3Ln, err := c.startS3(ctx, cfg, reg)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { s3Ln.Close() })
	if err := c.openStorage(cfg); err != nil {
		return nil, err
	}
	nodeLn, err := c.startNodes(cfg)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { nodeLn.Close() })
	if r, ok := reg.Gatherer().(prometheus.Registerer); ok { // the metrics registry is a *prometheus.Registry
		r.MustRegister(c.Nodes.Collector())
	}
	if cfg.DemoImage != "" {
		img, err := c.RegisterDemoImage(ctx, cfg.DemoImage)
		if err != nil {
			return nil, err
		}
		cfg.Logger.InfoContext(ctx, "demo image registered", "image", img.ImageId, "name", DemoImageName, "new", img.Created)
	}
	api, err := c.apiServer(cfg, types, reg)
	if err != nil {
		return nil, err
	}
	ec2Handler, err := c.withLogin(cfg, api)
	if err != nil {
		return nil, err
	}
	c.serve(ec2Ln, ec2Handler)
	c.serveS3(s3Ln)
	c.serveNodes(nodeLn)
	c.serve(adminLn, (&admin.Server{Token: c.Admin.Token, Identity: c.Identity, DB: db, Metrics: reg.Handler(), Logger: cfg.Logger, Images: c.Images,
		Nodes: c.Nodes, Terminate: terminator(api.Services["ec2"].Impl.(*ec2.Service)), Buckets: c.S3}).Handler())
	if !cfg.NoWorkers {
		c.startWorkers(cfg)
	}
	cfg.Logger.InfoContext(ctx, "kumo server started", "ec2", c.EC2Addr.String(), "s3", c.S3Addr.String(), "admin", c.AdminAddr.String(), "nodes", c.NodeAddr.String(),
		"database", string(db.Dialect()), "region", cfg.Region, "zones", cfg.Zones)
	return c, nil
}

// openStorage sets up the system object store (kernels, ramdisks,
// snapshot chunks) under the data dir.
func (c *Controller) openStorage(cfg Config) error {
	objects := c.S3.System()
	objects.NotFound = snapshot.ErrNotFound
	c.objects = objects
	c.importSource = s3.Source{Server: c.S3, Denied: imageimport.ErrSourceDenied, Missing: imageimport.ErrSourceMissing}
	c.snapshots = &snapshot.Store{Objects: objects}
	c.Snapshots = c.snapshots
	c.Images = &admin.Registry{DB: c.DB, Identity: c.Identity, Files: objects, Logger: cfg.Logger}
	return nil
}

func (c *Controller) apiServer(cfg Config, types []ec2.InstanceType, reg *metrics.Registry) (*apiserver.Server, error) {
	ec2svc := ec2.New(c.DB, ec2.Config{Region: cfg.Region, Zones: cfg.Zones, Endpoint: c.EC2Addr.String(), InstanceTypes: types,
		VCPUOvercommit: cfg.VCPUOvercommit, PublicIPs: cfg.PublicIPs,
		VolumeBackend: cfg.VolumeBackend, VolumeStorageGiB: cfg.VolumeStorageGiB})
	ec2svc.Snapshots = snapshotData{c.snapshots}
	ec2svc.Notify = c.Nodes.Notify
	iamsvc := &iam.Service{Identity: c.Identity}
	return &apiserver.Server{Identity: c.Identity, Logger: cfg.Logger, Metrics: reg, Region: cfg.Region, Authorizer: c.Authorizer, Services: map[string]apiserver.Service{
		"ec2": {Model: ec2api.Model(), Impl: ec2svc},
		"iam": {Model: iamapi.Model(), Impl: iamsvc},
		"sts": {Model: stsapi.Model(), Impl: c.STS},
	}}, nil
}

// withLogin adds the LDAP login endpoint next to the API when configured.
func (c *Controller) withLogin(cfg Config, api http.Handler) (http.Handler, error) {
	if cfg.LDAP == nil {
		return api, nil
	}
	auth, err := ldapauth.New(*cfg.LDAP, cfg.Logger.With("component", "ldap"))
	if err != nil {
		return nil, fmt.Errorf("ldap login: %w", err)
	}
	// cfg.LoginIssuer (tests), else the server's own STS service.
	issuer := cfg.LoginIssuer
	if issuer == nil {
		issuer = ldaplogin.IssuerFunc(func(ctx context.Context, account, role, session string, d time.Duration, tags map[string]string) (ldaplogin.Credentials, error) {
			creds, err := c.STS.IssueRoleSession(ctx, account, role, session, d, tags)
			return ldaplogin.Credentials(creds), err
		})
	}
	mux := http.NewServeMux()
	mux.Handle(ldaplogin.Path, &ldaplogin.Handler{Auth: auth, Issuer: issuer, Logger: cfg.Logger.With("component", "ldap-login")})
	mux.Handle("/", api)
	return mux, nil
}

// startWorkers runs the background reconcilers until Close.
func (c *Controller) startWorkers(cfg Config) {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopWorkers = cancel
	gc := &snapshotCollector{db: c.DB, store: c.snapshots, logger: cfg.Logger.With("worker", "snapshot-gc"), grace: 10 * time.Minute}
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		gc.run(ctx, time.Minute)
	}()
	if c.importSource != nil {
		im := &imageimport.Importer{DB: c.DB, Source: c.importSource, Images: qemuimg.Tool{}, Snapshots: snapshotData{c.snapshots},
			WorkDir: filepath.Join(cfg.DataDir, "tmp"), Logger: cfg.Logger.With("worker", "import")}
		_ = os.MkdirAll(im.WorkDir, 0o700)
		c.workers.Add(1)
		go func() {
			defer c.workers.Done()
			im.Run(ctx)
		}()
	}
}

func (c *Controller) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(c.logger.Handler(), slog.LevelWarn)}
	c.servers = append(c.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.errc <- fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
	}()
}

// startS3 opens the object backend, makes the S3 server and binds its listener.
func (c *Controller) startS3(ctx context.Context, cfg Config, reg *metrics.Registry) (net.Listener, error) {
	be, err := s3.OpenBackend(s3.BackendConfig{DataDir: cfg.DataDir, Remote: cfg.S3Remote})
	if err != nil {
		return nil, err
	}
	c.S3, err = s3.NewServer(ctx, s3.Config{DB: c.DB, Identity: c.Identity, Backend: be, Region: cfg.Region, Logger: cfg.Logger, Metrics: reg, Authorizer: c.Authorizer})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.S3Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for the S3 API on %s: %w", cfg.S3Listen, err)
	}
	c.S3Addr = ln.Addr()
	return ln, nil
}

// serveS3 serves the S3 API without a whole-request read timeout: uploads
// of large objects take as long as they take.
func (c *Controller) serveS3(ln net.Listener) {
	srv := &http.Server{Handler: c.S3, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(c.logger.Handler(), slog.LevelWarn)}
	c.servers = append(c.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.errc <- fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
	}()
}

// Wait blocks until ctx ends or a listener fails.
func (c *Controller) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-c.errc:
		return err
	}
}

// Close stops accepting requests, lets running ones finish, and closes the store.
func (c *Controller) Close(ctx context.Context) error {
	var errs []error
	if c.stopWorkers != nil {
		c.stopWorkers()
		c.workers.Wait()
	}
	for _, s := range c.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	if c.Nodes != nil {
		c.Nodes.Stop(ctx)
	}
	errs = append(errs, c.DB.Close())
	return errors.Join(errs...)
}

// startNodes makes the node server (its CA lives in the data dir) and binds
// its listener.
func (c *Controller) startNodes(cfg Config) (net.Listener, error) {
	var err error
	c.Nodes, err = nodeserver.New(nodeserver.Config{DB: c.DB, Objects: c.objects, Issuer: c.STS, Logger: cfg.Logger.With("component", "nodes"),
		Region: cfg.Region, DataDir: cfg.DataDir, Names: cfg.NodeNames, PublicPool: cfg.PublicIPs.Prefixes()})
	if err != nil {
		return nil, err
	}
	addr := cfg.NodeListen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for nodes on %s: %w", addr, err)
	}
	c.NodeAddr = ln.Addr()
	return ln, nil
}

func (c *Controller) serveNodes(ln net.Listener) {
	go func() {
		if err := c.Nodes.Serve(ln); err != nil {
			c.errc <- err
		}
	}()
}

// terminator lets the admin API terminate an account's instances (account
// deletion with --force) through the EC2 service, as the account's root.
func terminator(svc *ec2.Service) func(ctx context.Context, accountID string, ids []string) error {
	return func(ctx context.Context, accountID string, ids []string) error {
		ctx = identity.WithPrincipal(ctx, identity.Principal{AccountID: accountID, UserID: accountID})
		_, err := svc.TerminateInstances(ctx, &ec2api.TerminateInstancesRequest{InstanceIds: ids})
		return err
	}
}
