package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// Single sign-on (IAM-5): providers with their domains, identity links, and
// sign-ins in progress. The identity service authorises every call first.

// ssoSettings are a provider's settings as stored (JSON). Protocol is empty
// for the OpenID providers stored before SAML existed; a SAML provider keeps
// its identity provider's metadata document here.
type ssoSettings struct {
	Protocol        string            `json:"protocol,omitempty"`
	IDPMetadata     string            `json:"idp_metadata,omitempty"`
	IDPMetadataURL  string            `json:"idp_metadata_url,omitempty"`
	IDPSSOURL       string            `json:"idp_sso_url,omitempty"`
	EmailAttribute  string            `json:"email_attribute,omitempty"`
	EmailDomains    []string          `json:"email_domains"`
	JITProvisioning bool              `json:"jit_provisioning"`
	RoleClaim       string            `json:"role_claim,omitempty"`
	RoleMap         map[string]string `json:"role_map,omitempty"`
	DefaultRole     string            `json:"default_role,omitempty"`
}

const ssoProviderColumns = `id, tenant_id, name, issuer, client_id, client_secret, settings, enabled, created_at, updated_at`

func scanSSOProvider(row interface{ Scan(...any) error }) (identity.SSOProviderRow, error) {
	var p identity.SSOProviderRow
	var tenant sql.NullString
	var settings string
	var enabled, c, u int64
	err := row.Scan(&p.ID, &tenant, &p.Name, &p.Issuer, &p.ClientID, &p.SealedSecret, &settings, &enabled, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return p, rempart.Errorf(rempart.ENOTFOUND, "Single sign-on provider not found.")
	} else if err != nil {
		return p, err
	}
	var s ssoSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return p, err
	}
	p.TenantID, p.Enabled, p.CreatedAt, p.UpdatedAt = tenant.String, enabled == 1, fromTS(c), fromTS(u)
	p.ClientSecretSet = len(p.SealedSecret) > 0
	p.EmailDomains, p.JITProvisioning, p.RoleClaim, p.RoleMap, p.DefaultRole = s.EmailDomains, s.JITProvisioning, s.RoleClaim, s.RoleMap, s.DefaultRole
	p.Protocol, p.IDPMetadataURL, p.IDPSSOURL, p.EmailAttribute = s.Protocol, s.IDPMetadataURL, s.IDPSSOURL, s.EmailAttribute
	if p.Protocol == "" {
		p.Protocol = rempart.SSOProtocolOIDC
	}
	if s.IDPMetadata != "" {
		p.IDPMetadata = []byte(s.IDPMetadata)
	}
	if p.EmailDomains == nil {
		p.EmailDomains = []string{}
	}
	return p, nil
}

func ssoSettingsJSON(p identity.SSOProviderRow) (string, error) {
	b, err := json.Marshal(ssoSettings{Protocol: p.Protocol, IDPMetadata: string(p.IDPMetadata), IDPMetadataURL: p.IDPMetadataURL, IDPSSOURL: p.IDPSSOURL,
		EmailAttribute: p.EmailAttribute, EmailDomains: p.EmailDomains, JITProvisioning: p.JITProvisioning, RoleClaim: p.RoleClaim, RoleMap: p.RoleMap, DefaultRole: p.DefaultRole})
	return string(b), err
}

// sealedOrEmpty stores a SAML provider's absent client secret as an empty
// value, not NULL.
func sealedOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// claimDomains gives a provider its domains, refusing one that another
// provider holds.
func claimDomains(tx *Tx, p identity.SSOProviderRow) error {
	if _, err := tx.Exec(`DELETE FROM sso_domains WHERE provider_id = ?`, p.ID); err != nil {
		return err
	}
	for _, d := range p.EmailDomains {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM sso_domains WHERE domain = ?`, d).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "The email domain %s signs in through another provider.", d)
		}
		if _, err := tx.Exec(`INSERT INTO sso_domains (domain, provider_id, tenant_id) VALUES (?, ?, ?)`, d, p.ID, nullString(p.TenantID)); err != nil {
			return err
		}
	}
	return nil
}

// CreateSSOProvider stores a provider and claims its domains.
func (d *DB) CreateSSOProvider(ctx context.Context, e rempart.AuditEntry, p identity.SSOProviderRow) error {
	settings, err := ssoSettingsJSON(p)
	if err != nil {
		return err
	}
	_, err = d.Write(ctx, e, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO sso_providers (`+ssoProviderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, nullString(p.TenantID), p.Name, p.Issuer, p.ClientID, sealedOrEmpty(p.SealedSecret), settings, boolInt(p.Enabled), ts(p.CreatedAt), ts(p.UpdatedAt)); err != nil {
			return err
		}
		return claimDomains(tx, p)
	})
	return err
}

// UpdateSSOProvider replaces a provider of a tenant ("" staff).
func (d *DB) UpdateSSOProvider(ctx context.Context, e rempart.AuditEntry, p identity.SSOProviderRow) error {
	settings, err := ssoSettingsJSON(p)
	if err != nil {
		return err
	}
	_, err = d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Single sign-on provider not found."), `UPDATE sso_providers SET name = ?, issuer = ?, client_id = ?, client_secret = ?, settings = ?, enabled = ?, updated_at = ? WHERE id = ? AND `+tenantIs(p.TenantID),
			append([]any{p.Name, p.Issuer, p.ClientID, sealedOrEmpty(p.SealedSecret), settings, boolInt(p.Enabled), ts(p.UpdatedAt), p.ID}, tenantArgs(p.TenantID)...)...)
		if err != nil {
			return err
		}
		return claimDomains(tx, p)
	})
	return err
}

// DeleteSSOProvider removes a provider with its domains, links and
// sign-ins in progress.
func (d *DB) DeleteSSOProvider(ctx context.Context, e rempart.AuditEntry, tenant, id string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		for _, q := range []string{`DELETE FROM sso_domains WHERE provider_id = ?`, `DELETE FROM sso_identities WHERE provider_id = ?`, `DELETE FROM sso_logins WHERE provider_id = ?`} {
			if _, err := tx.Exec(q, id); err != nil {
				return err
			}
		}
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Single sign-on provider not found."), `DELETE FROM sso_providers WHERE id = ? AND `+tenantIs(tenant), append([]any{id}, tenantArgs(tenant)...)...)
	})
	return err
}

// SSOProvider returns a provider by ID.
func (d *DB) SSOProvider(ctx context.Context, id string) (identity.SSOProviderRow, error) {
	return scanSSOProvider(d.reader(ctx).QueryRow(`SELECT `+ssoProviderColumns+` FROM sso_providers WHERE id = ?`, id))
}

// SSOProviders lists a tenant's ("" staff's) providers, oldest first.
func (d *DB) SSOProviders(ctx context.Context, tenant string) ([]identity.SSOProviderRow, error) {
	return scanAll(scanSSOProvider)(d.reader(ctx).Query(`SELECT `+ssoProviderColumns+` FROM sso_providers WHERE `+tenantIs(tenant)+` ORDER BY created_at, id`, tenantArgs(tenant)...))
}

// SSOProviderByDomain returns the provider that claims an email domain.
func (d *DB) SSOProviderByDomain(ctx context.Context, domain string) (identity.SSOProviderRow, error) {
	return scanSSOProvider(d.reader(ctx).QueryRow(`SELECT `+ssoProviderColumns+` FROM sso_providers
		WHERE id = (SELECT provider_id FROM sso_domains WHERE domain = ?)`, domain))
}

// CreateSSOLogin stores a sign-in in progress and forgets expired ones.
// Nothing here is worth an audit entry: StartSSO records the start.
func (d *DB) CreateSSOLogin(ctx context.Context, l identity.SSOLoginRow, now time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM sso_logins WHERE expires_at < ?`, ts(now)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO sso_logins (state_hash, binding_hash, provider_id, return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			l.StateHash, l.BindingHash, l.ProviderID, l.ReturnTo, ts(l.CreatedAt), ts(l.ExpiresAt))
		return err
	})
}

// SSOLogin returns a sign-in in progress by its state's hash.
func (d *DB) SSOLogin(ctx context.Context, stateHash []byte) (identity.SSOLoginRow, error) {
	var l identity.SSOLoginRow
	var c, x int64
	var used sql.NullInt64
	err := d.reader(ctx).QueryRow(`SELECT state_hash, binding_hash, provider_id, return_to, created_at, expires_at, used_at FROM sso_logins WHERE state_hash = ?`, stateHash).
		Scan(&l.StateHash, &l.BindingHash, &l.ProviderID, &l.ReturnTo, &c, &x, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return l, rempart.Errorf(rempart.ENOTFOUND, "Sign-in not found.")
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromTS(c), fromTS(x), fromNullTS(used)
	return l, err
}

// UseSSOLogin marks a sign-in used, once.
func (d *DB) UseSSOLogin(ctx context.Context, stateHash []byte, now time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.EUNAUTHORIZED, "The sign-in was used already or has expired."), `UPDATE sso_logins SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?`, ts(now), stateHash, ts(now))
	})
}

// UserBySSO returns the user linked to (issuer, subject).
func (d *DB) UserBySSO(ctx context.Context, issuer, subject string) (identity.UserRow, error) {
	return scanUser(d.reader(ctx).QueryRow(`SELECT `+userColumns+userFrom+` JOIN sso_identities i ON i.user_id = u.id
		WHERE i.issuer = ? AND i.subject = ? AND p.deleted_at IS NULL`, issuer, subject))
}

func insertSSOLink(tx *Tx, l identity.SSOLink, tenant string) error {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM sso_identities WHERE issuer = ? AND subject = ?`, l.Issuer, l.Subject).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return rempart.Errorf(rempart.ECONFLICT, "This identity is linked to an account already.")
	}
	_, err := tx.Exec(`INSERT INTO sso_identities (issuer, subject, user_id, provider_id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		l.Issuer, l.Subject, l.UserID, l.ProviderID, nullString(tenant), ts(l.CreatedAt))
	return err
}

// LinkSSO links an existing user to an identity at a provider.
func (d *DB) LinkSSO(ctx context.Context, e rempart.AuditEntry, l identity.SSOLink) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var tenant sql.NullString
		if err := tx.QueryRow(`SELECT tenant_id FROM users WHERE id = ?`, l.UserID).Scan(&tenant); errors.Is(err, sql.ErrNoRows) {
			return rempart.Errorf(rempart.ENOTFOUND, "User not found.")
		} else if err != nil {
			return err
		}
		return insertSSOLink(tx, l, tenant.String)
	})
	return err
}

// ProvisionSSOUser creates a user without a password, linked to an
// identity at a provider.
func (d *DB) ProvisionSSOUser(ctx context.Context, e rempart.AuditEntry, u identity.UserRow, l identity.SSOLink) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "A user with this email already exists.")
		}
		if err := insertPrincipal(tx, rempart.Principal{ID: u.ID, TenantID: u.TenantID, Name: u.Name, Role: u.Role}, u.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO users (id, tenant_id, email, status, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, nullString(u.TenantID), u.Email, u.Status, ts(u.CreatedAt)); err != nil {
			return err
		}
		return insertSSOLink(tx, l, u.TenantID)
	})
	return err
}
