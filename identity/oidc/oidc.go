// Package oidc speaks OpenID Connect to providers for single sign-on
// (IAM-5), with github.com/coreos/go-oidc/v3 and golang.org/x/oauth2 (ADR
// 0012): discovery, the authorisation code flow with PKCE (S256), and ID
// token verification against the issuer's published keys.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rempart/rempart/identity"
)

// Client implements identity.OIDC. Discovery documents and key sets are
// cached per issuer for CacheFor (default 10 minutes).
type Client struct {
	// HTTP makes the requests to providers; one with a 10-second timeout
	// when nil.
	HTTP     *http.Client
	CacheFor time.Duration

	mu        sync.Mutex
	providers map[string]cached
}

type cached struct {
	p  *oidc.Provider
	at time.Time
}

var _ identity.OIDC = (*Client)(nil)

func (c *Client) ctx(ctx context.Context) context.Context {
	h := c.HTTP
	if h == nil {
		h = &http.Client{Timeout: 10 * time.Second}
	}
	return oidc.ClientContext(ctx, h)
}

// provider returns the discovered provider of issuer, from the cache when
// fresh. go-oidc checks that the document names the issuer it was fetched
// for.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	life := c.CacheFor
	if life <= 0 {
		life = 10 * time.Minute
	}
	c.mu.Lock()
	if p, ok := c.providers[issuer]; ok && time.Since(p.at) < life {
		c.mu.Unlock()
		return p.p, nil
	}
	c.mu.Unlock()
	p, err := oidc.NewProvider(c.ctx(ctx), issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.providers == nil {
		c.providers = map[string]cached{}
	}
	c.providers[issuer] = cached{p, time.Now()}
	c.mu.Unlock()
	return p, nil
}

// Check fetches and checks an issuer's discovery document.
func (c *Client) Check(ctx context.Context, issuer string) error {
	c.mu.Lock()
	delete(c.providers, issuer)
	c.mu.Unlock()
	p, err := c.provider(ctx, issuer)
	if err != nil {
		return err
	}
	var doc struct {
		ResponseTypes []string `json:"response_types_supported"`
		Challenges    []string `json:"code_challenge_methods_supported"`
		JWKS          string   `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return err
	}
	switch {
	case p.Endpoint().AuthURL == "" || p.Endpoint().TokenURL == "" || doc.JWKS == "":
		return errors.New("the document lacks an authorization, token or jwks endpoint")
	case !slices.Contains(doc.ResponseTypes, "code"):
		return errors.New("the provider does not offer the authorization code flow")
	case len(doc.Challenges) > 0 && !slices.Contains(doc.Challenges, "S256"):
		return errors.New("the provider does not offer PKCE with S256")
	}
	return nil
}

func (c *Client) config(p *oidc.Provider, cl identity.OIDCClient) *oauth2.Config {
	return &oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: cl.RedirectURL,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// AuthCodeURL returns the authorisation request.
func (c *Client) AuthCodeURL(ctx context.Context, cl identity.OIDCClient, state, nonce, verifier string) (string, error) {
	p, err := c.provider(ctx, cl.Issuer)
	if err != nil {
		return "", err
	}
	return c.config(p, cl).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange redeems a code and verifies the ID token.
func (c *Client) Exchange(ctx context.Context, cl identity.OIDCClient, code, verifier string) (identity.OIDCIdentity, error) {
	p, err := c.provider(ctx, cl.Issuer)
	if err != nil {
		return identity.OIDCIdentity{}, err
	}
	tok, err := c.config(p, cl).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return identity.OIDCIdentity{}, fmt.Errorf("token endpoint answered %d %s", re.Response.StatusCode, re.ErrorCode)
		}
		return identity.OIDCIdentity{}, errors.New("token request failed")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return identity.OIDCIdentity{}, errors.New("no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: cl.ClientID}).Verify(ctx, raw)
	if err != nil {
		return identity.OIDCIdentity{}, err
	}
	var std struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
	}
	claims := map[string]any{}
	if err := idt.Claims(&std); err != nil {
		return identity.OIDCIdentity{}, err
	}
	if err := idt.Claims(&claims); err != nil {
		return identity.OIDCIdentity{}, err
	}
	return identity.OIDCIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Nonce: idt.Nonce, Email: std.Email, EmailVerified: std.EmailVerified,
		Name: std.Name, Claims: claims}, nil
}
