package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/httpapi"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/reviews"
	"github.com/rempart/rempart/vault"
)

// stackMaxAttachment is the stack's attachment size limit: above the edge's
// body limit of other routes, small enough for tests to exceed quickly.
const stackMaxAttachment = 3 << 20

// stack is the whole API over a real SQLite database and a local object
// store, as cmd/rempart wires it.
type stack struct {
	t        *testing.T
	srv      *httptest.Server
	db       *db.DB
	clock    *testclock.Clock
	vault    *vault.Service
	identity *identity.Service
	grants   *grants.Service
	// totp holds the TOTP secrets of the staff person() enrolled, by email.
	totp    map[string][]byte
	log     *audit.Log
	keyring *keys.Keyring
	sealer  keys.Sealer // single sign-on client secrets
	jobs    *jobs.Runner
	backups *backup.Service
	api     *httpapi.Server
	dir     string
	objects *blobs.Store // attachments
}

func newStack(t *testing.T) *stack { t.Helper(); return newStackWith(t, identity.Config{}) }

// newStackWith is newStack with the identity service's configuration,
// whose SSO secrets, when Secrets is nil, are sealed under the stack's root
// key.
func newStackWith(t *testing.T, idCfg identity.Config) *stack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	clock := testclock.New(time.Now())
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(dir, "rempart.db"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	root, err := keys.CreateLocalFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	skey, _, err := audit.GenerateKey("test/rempart")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, db: d, clock: clock, dir: dir, totp: map[string][]byte{}}
	s.log = audit.NewLog(d, signer)
	s.keyring = keys.NewKeyring(root, 100)
	if s.sealer, err = keys.NewSealer(bytes.Repeat([]byte{9}, 32)); err != nil {
		t.Fatal(err)
	}
	objects, err := blobs.Open(ctx, filepath.Join(dir, "attachments"))
	if err != nil {
		t.Fatal(err)
	}
	s.objects = objects
	s.vault = vault.New(d, s.keyring, clock, vault.Config{Objects: blobstore.Objects{Store: objects},
		Attachments: vault.AttachmentLimits{MaxBytes: stackMaxAttachment}, Grants: d})
	s.grants = grants.New(d, clock)
	if idCfg.SSO.OIDC != nil && idCfg.SSO.Secrets == nil {
		idCfg.SSO.Secrets = s.sealer
	}
	idCfg.MFAKey = bytes.Repeat([]byte{7}, 32)
	s.identity = identity.New(d, clock, idCfg)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.jobs = jobs.NewRunner(d, clock, logger, jobs.Config{})
	for _, k := range []string{backup.KindCreate, backup.KindVerify, backup.KindRestoreTest, keys.KindRootRewrap, vault.KindReencrypt} {
		s.jobs.Handle(k, func(context.Context, *jobs.Run) error { return nil })
	}
	store, err := blobs.Open(ctx, filepath.Join(dir, "backups"))
	if err != nil {
		t.Fatal(err)
	}
	bskey, bvkey, _ := audit.GenerateKey("test/backup")
	bsigner, err := backup.NewSigner(bskey, bvkey)
	if err != nil {
		t.Fatal(err)
	}
	s.backups = backup.New(backup.Config{Store: d, Source: d, Objects: blobstore.Objects{Store: store}, Keys: s.keyring, Signer: bsigner, Clock: clock,
		Checkpoint: func(size uint64, root []byte) (string, error) {
			cp, err := signer.Sign(size, root)
			return cp.Note, err
		}})
	s.backups.SetEnqueuer(s.jobs)
	roots := keys.NewLocalKeys(filepath.Join(dir, "root.key"))
	s.keyring.SetSource(roots)
	rotator := keys.NewRotator(d, s.keyring, roots, nil, nil)
	s.api = httpapi.New(httpapi.Services{Vault: s.vault, Identity: s.identity, Audit: s.log, Backups: s.backups, Jobs: s.jobs,
		Keys: keys.NewAdmin(d, rotator, s.jobs), TenantKeys: vault.NewKeys(s.vault, s.jobs), Grants: s.grants,
		Reviews: reviews.New(d, clock, reviews.Config{})}, logger, clock, httpapi.Config{})
	s.srv = httptest.NewServer(s.api.Handler())
	t.Cleanup(func() {
		s.srv.Close()
		store.Close()
		objects.Close()
		d.Close()
	})
	return s
}

// admin bootstraps the first system administrator and returns its caller and
// secret.
func (s *stack) admin() (rempart.Caller, string) {
	s.t.Helper()
	ctx := context.Background()
	tok, err := s.identity.EnsureBootstrap(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := s.identity.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := s.identity.Authenticate(ctx, rempart.Caller{}, b.Key.Secret)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, b.Key.Secret
}

// tenant creates a tenant and returns its ID.
func (s *stack) tenant(admin rempart.Caller, name string) string {
	s.t.Helper()
	ten, err := s.vault.CreateTenant(context.Background(), admin, name)
	if err != nil {
		s.t.Fatal(err)
	}
	return ten.ID
}

// account creates a service account with a key of the given lifetime (days,
// 0 = default) and returns the account ID, the key ID and its secret.
func (s *stack) account(admin rempart.Caller, tenant, name, role string, days int) (string, string, string) {
	s.t.Helper()
	ctx := context.Background()
	// A privileged role comes only through an approved role change (IAM-10).
	first := role
	if guard.Privileged(role) {
		first = rempart.RoleWriter
	}
	sa, err := s.identity.CreateServiceAccount(ctx, admin, tenant, rempart.ServiceAccountCreate{Name: name, Role: first})
	if err != nil {
		s.t.Fatal(err)
	}
	if first != role {
		rv := reviews.New(s.db, s.clock, reviews.Config{})
		rc, err := rv.RequestRoleChange(ctx, admin, tenant, rempart.RoleChangeCreate{PrincipalID: sa.ID, Role: role, Reason: "test fixture"})
		if err != nil {
			s.t.Fatal(err)
		}
		second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
		if _, err := rv.ApproveRoleChange(ctx, second, tenant, rc.ID, rempart.RoleChangeDecision{}); err != nil {
			s.t.Fatal(err)
		}
	}
	k, err := s.identity.CreateAPIKey(ctx, admin, tenant, sa.ID, rempart.APIKeyCreate{ExpiresInDays: days})
	if err != nil {
		s.t.Fatal(err)
	}
	return sa.ID, k.ID, k.Secret
}
