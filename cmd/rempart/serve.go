package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/httpapi"
	"github.com/rempart/rempart/httpsrv"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/password"
	"github.com/rempart/rempart/identity/saml"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/notify"
	"github.com/rempart/rempart/reviews"
	"github.com/rempart/rempart/vault"
)

// Main is the server: ParseFlags, then Run, then Close. End-to-end tests run
// this same Main on port 0 with a temporary data directory.
type Main struct {
	Stdout, Stderr io.Writer

	fs      *flag.FlagSet
	opts    *options
	storage *storageOptions
	mail    *mailOptions
	mailer  *notify.Invitations // nil without an SMTP relay

	listen, httpListen, internalListen                  *string
	tlsCert, tlsKey, hostnames, trustedProxies          *string
	keyLifetime, retention, checkpointEvery, purgeEvery *string
	passwordMaxAge, sessionIdle, sessionLifetime        *string
	passwordBreachCheck                                 *string
	mfaStepUp, webauthnRPID, webauthnOrigins            *string
	rateIP, rateCredential, maxRecordBytes, logLevel    *string
	pprof, backupSchedule, backupRetention              *string
	restoreTestSchedule                                 *string
	customerKeySources, customerKeyModules, customerTTL *string
	publicURL, ssoAllowedNetworks                       *string
	ssoCallback                                         string
	samlMetadata, samlACS                               string
	samlSP                                              *saml.ServiceProvider
	ssoHTTP                                             *http.Client // single sign-on's outbound requests (egress.go)
	maxAttachmentBytes, attachmentTypes                 *string
	retentionMin, retentionMax                          *string

	Logger          *slog.Logger
	Deployment      *deployment
	DB              *db.DB
	Keyring         *keys.Keyring
	Log             *audit.Log
	Jobs            *jobs.Runner
	TenantKeys      *vault.Keys
	Rotator         *keys.Rotator
	KeyAdmin        *keys.Admin
	customerKeys    *keys.Customer
	Vault           *vault.Service
	Identity        *identity.Service
	Grants          *grants.Service
	Reviews         *reviews.Service
	API             *httpapi.Server
	Server          *httpsrv.Server
	Bootstrap       string // the one-time bootstrap token printed at start, if any
	CertFingerprint string

	cancel context.CancelFunc
	jobs   sync.WaitGroup
}

// NewMain declares every setting of rempart serve.
func NewMain(stdout, stderr io.Writer) *Main {
	m := &Main{Stdout: stdout, Stderr: stderr, fs: flag.NewFlagSet("rempart serve", flag.ContinueOnError)}
	m.fs.SetOutput(stderr)
	o := newOptions(m.fs)
	m.opts = o
	m.storage = addStorageOptions(o)
	m.listen = o.add("listen", ":8443", "HTTPS address of the API and the console")
	m.httpListen = o.add("http-listen", ":8080", `plain-HTTP address that only redirects to HTTPS ("" disables it)`)
	m.internalListen = o.add("internal-listen", "127.0.0.1:9090", "internal address for /healthz, /readyz and /metrics (keep it private)")
	m.tlsCert = o.add("tls-cert", "", "TLS certificate PEM file (default: a self-signed one in the data directory, created on first start)")
	m.tlsKey = o.add("tls-key", "", "TLS private key PEM file, mode 0600")
	m.hostnames = o.add("hostnames", "", "comma-separated extra host names and IPs for the self-signed certificate")
	m.trustedProxies = o.add("trusted-proxies", "", "comma-separated CIDRs of reverse proxies allowed to set X-Forwarded-For")
	m.keyLifetime = o.add("key-lifetime", "2160h", "default and maximum lifetime of API keys")
	m.passwordMaxAge = o.add("password-max-age", "2160h", "when a person's password expires (IAM-3): at least 720h, or 0 for never")
	m.passwordBreachCheck = o.add("password-breach-check", "", `base URL of a Have I Been Pwned range API, "https://api.pwnedpasswords.com" or a mirror (https, or http on loopback), that new passwords are checked against (IAM-3): only the first 5 hex digits of a password's SHA-1 leave the server. It fails closed: while the service cannot answer, new passwords are refused. "" turns the check off`)
	m.sessionIdle = o.add("session-idle", "30m", "a console session ends after this long without use")
	m.sessionLifetime = o.add("session-lifetime", "12h", "a console session ends this long after sign-in, used or not")
	m.mfaStepUp = o.add("mfa-step-up", "10m", "how recently a person must have proved a second factor for a sensitive action (IAM-4): removing a factor, new recovery codes, a new personal API key, staff changes, root key rotation")
	m.webauthnRPID = o.add("webauthn-rp-id", "localhost", "relying party ID of security keys: the console's host name, as users type it in the browser")
	m.webauthnOrigins = o.add("webauthn-origins", "", `comma-separated origins of the console for security keys (default "https://<webauthn-rp-id>:<listen port>")`)
	m.retention = o.add("retention", "720h", "how long deleted records and attachments stay restorable before they are purged")
	m.retentionMin = o.add("retention-min", "24h", "the shortest retention a tenant's rule may set, in whole days")
	m.retentionMax = o.add("retention-max", "87600h", "the longest retention (and maximum age of live records) a tenant's rule may set, in whole days")
	m.checkpointEvery = o.add("checkpoint-interval", "10s", "how often the audit log's checkpoint is signed when it grew")
	m.purgeEvery = o.add("purge-interval", "1h", "how often records and attachments past their retention are purged, and records past their maximum age deleted")
	m.rateIP = o.add("rate-ip", "2000:4000", "requests per second and burst allowed per client IP")
	m.rateCredential = o.add("rate-credential", "2000:4000", "requests per second and burst allowed per API key")
	m.maxRecordBytes = o.add("max-record-bytes", "1048576", "largest record accepted, in bytes")
	m.maxAttachmentBytes = o.add("max-attachment-bytes", strconv.FormatInt(vault.DefaultMaxAttachmentBytes, 10), "largest attachment accepted, in bytes")
	m.attachmentTypes = o.add("attachment-types", strings.Join(vault.DefaultContentTypes, ","), `comma-separated media types accepted as attachments ("type/subtype" or "type/*")`)
	m.logLevel = o.add("log-level", "info", "debug, info, warn or error")
	m.pprof = o.add("pprof", "false", "serve Go's profiler at /debug/pprof/ on the internal listener (true or false)")
	m.backupSchedule = o.add("backup-schedule", "24h@02:00", `how often backups are taken: "PERIOD@HH:MM" (UTC), such as "24h@02:00" for daily at 02:00, or "off"`)
	m.backupRetention = o.add("backup-retention", "720h", "how long backups are kept (the newest complete one is always kept)")
	m.restoreTestSchedule = o.add("restore-test-schedule", "720h@03:00", `how often the latest backup is restored into a scratch database and checked, or "off"`)
	m.customerKeySources = o.add("customer-key-sources", "", `kinds of key tenants may bring to wrap their own keys (customer-managed keys): a comma-separated list of pkcs11, awskms, gcpkms, azurekeyvault, hashivault ("" refuses them)`)
	m.customerKeyModules = o.add("customer-key-pkcs11-modules", "", "comma-separated PKCS#11 module libraries tenants' keys may use (a tenant never chooses the library the server loads)")
	m.publicURL = o.add("public-url", "", `the console's public address, such as https://rempart.example.com: single sign-on (IAM-5) returns to <public-url>/sso/callback ("" disables single sign-on); links in invitation mail lead there too, so it is required with smtp-host`)
	m.ssoAllowedNetworks = o.add("sso-allowed-networks", "", `comma-separated CIDRs of non-public networks where identity providers may be reached, such as an in-house one at 10.20.0.0/16 (by default single sign-on reaches public addresses only, so that an issuer or metadata URL a tenant's admin gives cannot make the server reach its own network)`)
	m.mail = addMailOptions(o, m.publicURL)
	m.customerTTL = o.add("customer-key-cache", "60s", "how long a data key unwrapped through a tenant's own key stays cached: a revocation of that key takes effect within this time")
	return m
}

// ParseFlags reads flags, environment and the optional config file.
func (m *Main) ParseFlags(args []string) error {
	return m.opts.parse(args)
}

// Err reports a fatal error of a listener after Run.
func (m *Main) Err() <-chan error { return m.Server.Err() }

func (m *Main) path(p *string, name string) string { return m.storage.path(p, name) }

// Run opens storage and keys, wires the services and starts the listeners.
func (m *Main) Run(ctx context.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*m.logLevel)); err != nil {
		return fmt.Errorf("log-level: %w", err)
	}
	m.Logger = slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	durations, err := parseDurations(map[string]string{"key-lifetime": *m.keyLifetime, "retention": *m.retention, "checkpoint-interval": *m.checkpointEvery, "purge-interval": *m.purgeEvery, "backup-retention": *m.backupRetention, "customer-key-cache": *m.customerTTL,
		"retention-min": *m.retentionMin, "retention-max": *m.retentionMax, "session-idle": *m.sessionIdle, "session-lifetime": *m.sessionLifetime, "mfa-step-up": *m.mfaStepUp})
	if err != nil {
		return err
	}
	policy := password.DefaultPolicy()
	if *m.passwordMaxAge == "0" {
		policy.MaxAge = 0
	} else if policy.MaxAge, err = time.ParseDuration(*m.passwordMaxAge); err != nil || policy.Validate() != nil {
		return fmt.Errorf("password-max-age: %q is not 0 (never) or a duration of at least 720h", *m.passwordMaxAge)
	}
	if durations["session-idle"] > durations["session-lifetime"] {
		return errors.New("session-idle must not exceed session-lifetime")
	}
	if durations["retention-min"] > durations["retention-max"] || durations["retention-max"] < 24*time.Hour {
		return errors.New("retention-min must not exceed retention-max, which must be at least 24h")
	}
	ipRate, ipBurst, err := parseRate("rate-ip", *m.rateIP)
	if err != nil {
		return err
	}
	credRate, credBurst, err := parseRate("rate-credential", *m.rateCredential)
	if err != nil {
		return err
	}
	maxRecord, err := strconv.Atoi(*m.maxRecordBytes)
	if err != nil || maxRecord < 1024 || maxRecord > 16<<20 {
		return errors.New("max-record-bytes must be a number between 1024 and 16777216")
	}
	maxAttachment, err := strconv.ParseInt(*m.maxAttachmentBytes, 10, 64)
	if err != nil || maxAttachment < 1024 || maxAttachment > 1<<40 {
		return errors.New("max-attachment-bytes must be a number between 1024 and 1099511627776")
	}
	attachmentTypes := splitList(*m.attachmentTypes)
	if err := vault.CheckContentTypes(attachmentTypes); err != nil {
		return fmt.Errorf("attachment-types: %w", err)
	}
	if _, err := strconv.ParseBool(*m.pprof); err != nil {
		return fmt.Errorf("pprof: %q is not true or false", *m.pprof)
	}
	proxies, err := parsePrefixes("trusted-proxies", *m.trustedProxies)
	if err != nil {
		return err
	}
	schedules, err := m.schedules()
	if err != nil {
		return err
	}
	if m.mailer, err = m.mail.mailer(); err != nil {
		return err
	}
	var mailer identity.InvitationMailer // nil, not a nil *notify.Invitations, without a relay
	var notices identity.AccountNotifier
	if m.mailer != nil {
		if notices, err = m.mail.notices(m.mailer.Mailer); err != nil {
			return err
		}
		mailer = m.mailer
	}
	if m.Deployment, err = openDeployment(ctx, m.storage); err != nil {
		return err
	}
	m.DB, m.Keyring = m.Deployment.DB, m.Deployment.Keyring
	clock := rempart.SystemClock{}
	m.Log = audit.NewLog(m.DB, m.Deployment.AuditSigner)
	m.Jobs = jobs.NewRunner(m.DB, clock, m.Logger, jobs.Config{})
	m.Vault = vault.New(m.DB, m.Keyring, clock, vault.Config{Limits: vault.Limits{MaxRecordBytes: maxRecord}, Retention: durations["retention"],
		RetentionMin: durations["retention-min"], RetentionMax: durations["retention-max"],
		Objects:     blobstore.Objects{Store: m.Deployment.Attachments},
		Attachments: vault.AttachmentLimits{MaxBytes: maxAttachment, ContentTypes: attachmentTypes},
		Grants:      m.DB, // staff reach records only under grants (IAM-7)
		OnTenantDeleted: func(ctx context.Context, tenant string) {
			// The escrow is rewritten without the tenant's keys; if the
			// enqueue fails, the next backup rewrites it anyway.
			if _, _, err := m.Jobs.Enqueue(context.WithoutCancel(ctx), system, jobEscrow, "", struct{}{}, time.Time{}); err != nil {
				m.Logger.Error("escrow refresh after a tenant deletion", "tenant", tenant, "error", err.Error())
			}
		}})
	m.TenantKeys = vault.NewKeys(m.Vault, m.Jobs)
	m.Keyring.SetSealPolicy(keys.SealPolicy{Leaser: m.DB.LeaseSeals, OnLimit: func(ctx context.Context, tenant, dataKey string) {
		if err := m.TenantKeys.AutoRotate(ctx, tenant, dataKey); err != nil {
			m.Logger.Error("automatic key rotation at the seal limit", "tenant", tenant, "data_key", dataKey, "error", err.Error())
		}
	}})
	m.Rotator = keys.NewRotator(m.DB, m.Keyring, m.Deployment.Roots, deploymentSecrets, m.Deployment.Backups.RefreshEscrow)
	m.KeyAdmin = keys.NewAdmin(m.DB, m.Rotator, m.Jobs)
	if sources := splitList(*m.customerKeySources); len(sources) > 0 {
		customer := keys.NewCustomer(m.DB, customerKeyOpener(sources, splitList(*m.customerKeyModules)))
		m.customerKeys = customer
		m.Keyring.SetCustomerKeys(customer, durations["customer-key-cache"])
		m.TenantKeys.SetCustomerKeys(customer, func(ctx context.Context) {
			// No escrow may keep the KEKs wrapped the old way (ADR 7).
			if _, _, err := m.Jobs.Enqueue(context.WithoutCancel(ctx), system, jobEscrow, "", struct{}{}, time.Time{}); err != nil {
				m.Logger.Error("escrow refresh after a customer key change", "error", err.Error())
			}
		})
	}
	m.TenantKeys.SetLogger(m.Logger)
	m.handleJobs(durations["backup-retention"])
	for _, sc := range schedules {
		m.Jobs.AddSchedule(sc)
	}
	// One node purges at a time: a job per period, not a loop per node.
	m.Jobs.AddSchedule(jobs.Schedule{Kind: jobPurge, Every: durations["purge-interval"]})
	sso, err := m.ssoConfig()
	if err != nil {
		return err
	}
	if sso.Secrets != nil {
		if m.samlSP, err = m.samlServiceProvider(ctx, sso.Secrets); err != nil {
			return fmt.Errorf("SAML service provider: %w", err)
		}
		sso.SAML = m.samlSP
	}
	m.Grants = grants.New(m.DB, clock)
	rp := webauthnConfig(*m.webauthnRPID, *m.webauthnOrigins, *m.listen)
	if err := identity.ValidateWebAuthn(rp); err != nil {
		return fmt.Errorf("webauthn-rp-id, webauthn-origins: %w", err)
	}
	breach, err := breachChecker(*m.passwordBreachCheck)
	if err != nil {
		return fmt.Errorf("password-breach-check: %w", err)
	}
	m.Identity = identity.New(m.DB, clock, identity.Config{KeyLifetime: durations["key-lifetime"], PasswordPolicy: policy, Breach: breach,
		SessionIdle: durations["session-idle"], SessionLifetime: durations["session-lifetime"],
		MFAKey: m.Deployment.MFAKey, StepUpWindow: durations["mfa-step-up"], WebAuthn: rp, Mailer: mailer, Notices: notices, SSO: sso})
	m.setupReviews(clock)
	m.setupNotices()
	services := httpapi.Services{Vault: m.Vault, Identity: m.Identity, Audit: m.Log, Backups: m.Deployment.Backups, Jobs: m.Jobs,
		Keys: m.KeyAdmin, TenantKeys: m.TenantKeys, Grants: m.Grants, Reviews: m.Reviews}
	m.API = httpapi.New(services, m.Logger, clock, httpapi.Config{
		IPRate: ipRate, IPBurst: ipBurst, CredentialRate: credRate, CredentialBurst: credBurst, TrustedProxies: proxies,
		MaxBodyBytes: int64(maxRecord) + 4<<10,
	})
	m.API.Registry().MustRegister(m.DB.Collectors()...)
	if m.Bootstrap, err = m.Identity.EnsureBootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	cert, fp, _, err := httpsrv.LoadOrCreateCertificate(m.path(m.tlsCert, "tls.crt"), m.path(m.tlsKey, "tls.key"), splitList(*m.hostnames), time.Now())
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	m.CertFingerprint = fp
	listeners := []httpsrv.Listener{
		{Name: "https", Addr: *m.listen, Handler: httpsrv.HSTS(m.publicHandler(proxies, ipRate, ipBurst)), TLS: httpsrv.TLSConfig(cert)},
		{Name: "internal", Addr: *m.internalListen, Handler: m.internalHandler()},
	}
	if *m.httpListen != "" {
		_, port, err := net.SplitHostPort(*m.listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		p, _ := strconv.Atoi(port)
		listeners = append(listeners, httpsrv.Listener{Name: "http-redirect", Addr: *m.httpListen, Handler: httpsrv.RedirectHandler(p)})
	}
	m.Server = httpsrv.New(m.Logger, listeners...)
	if err := m.Server.Start(); err != nil {
		return err
	}
	m.startJobs(durations["checkpoint-interval"])
	m.Jobs.Start()
	m.printWelcome()
	return nil
}

func (m *Main) internalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := m.DB.AuditTree(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", m.API.MetricsHandler())
	if on, _ := strconv.ParseBool(*m.pprof); on {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func (m *Main) startJobs(checkpointEvery time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	logErr := func(job string) func(error) {
		return func(err error) { m.Logger.Error("job failed", "job", job, "error", err.Error()) }
	}
	m.jobs.Add(2)
	go func() {
		defer m.jobs.Done()
		m.Log.Run(ctx, checkpointEvery, logErr("checkpoint"))
	}()
	// A root key rotation started on another node: take its new version as
	// the active one here too.
	go m.every(ctx, 10*time.Second, logErr("follow root key"), m.Rotator.Follow)
	if m.mailer != nil {
		m.jobs.Add(1)
		go m.sendNotices(ctx)
	}
}

// every runs fn every period until ctx ends, reporting its failures (but
// not those of its cancellation) to fail.
func (m *Main) every(ctx context.Context, period time.Duration, fail func(error), fn func(context.Context) error) {
	defer m.jobs.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				fail(err)
			}
		}
	}
}

func (m *Main) printWelcome() {
	addr := m.Server.Addr("https")
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	url := "https://" + net.JoinHostPort(host, port)
	fmt.Fprintf(m.Stdout, "rempart %s serving %s (API %s/api/v1)\n", version, url, url)
	fmt.Fprintf(m.Stdout, "TLS certificate SHA-256 fingerprint: %s\n", m.CertFingerprint)
	fmt.Fprintf(m.Stdout, "health and metrics: http://%s/healthz, /metrics\n", m.Server.Addr("internal"))
	if m.Bootstrap != "" {
		fmt.Fprintf(m.Stdout, `
No administrator exists yet. This one-time bootstrap token creates the first one
(valid 24 hours; a new one is printed at each start until it is used):

    %s

Redeem it for the administrator's API key (shown once):

    curl --cacert %s -X POST -H "Authorization: Bearer %s" %s/api/v1/bootstrap

`, m.Bootstrap, m.path(m.tlsCert, "tls.crt"), m.Bootstrap, url)
	}
}

// Close stops the listeners (draining in-flight requests for up to 20 s),
// the background jobs, and the database, in that order.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		errs = append(errs, m.Server.Shutdown(ctx))
		cancel()
	}
	if m.Jobs != nil {
		m.Jobs.Close()
	}
	if m.cancel != nil {
		m.cancel()
		m.jobs.Wait()
	}
	if m.customerKeys != nil {
		errs = append(errs, m.customerKeys.Close())
	}
	if m.Deployment != nil {
		errs = append(errs, m.Deployment.Close())
	}
	return errors.Join(errs...)
}

func parseDurations(in map[string]string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for name, v := range in {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive duration like 720h or 10s", name, v)
		}
		out[name] = d
	}
	return out, nil
}

func parseRate(name, v string) (float64, int, error) {
	r, b, ok := strings.Cut(v, ":")
	rate, err1 := strconv.ParseFloat(r, 64)
	burst, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || rate <= 0 || burst < 1 {
		return 0, 0, fmt.Errorf("%s: %q is not RATE:BURST like 2000:4000", name, v)
	}
	return rate, burst, nil
}

func parsePrefixes(name, v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range splitList(v) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// breachChecker is the breached-password check of password-breach-check:
// none for "", else the Have I Been Pwned range API at base, over https
// (or http to a mirror on this host).
func breachChecker(base string) (password.BreachChecker, error) {
	if base == "" {
		return nil, nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want a base URL such as https://api.pwnedpasswords.com")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && identity.IsLoopback(u.Hostname())) {
		return nil, errors.New("want https (http only to a mirror on this host)")
	}
	return password.NewPwnedClient(password.PwnedConfig{BaseURL: base}), nil
}
