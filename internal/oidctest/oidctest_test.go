package oidctest_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rempart/rempart/internal/oidctest"
)

// The harness runs a provider that completes an authorisation code flow with
// PKCE and signs an ID token that go-oidc verifies through discovery.
func TestProviderCodeFlow(t *testing.T) {
	const redirect = "http://127.0.0.1:9/callback"
	p := oidctest.Start(t, oidctest.Client{ID: "rp", Secret: "rp-secret", RedirectURI: redirect})
	ctx := context.Background()
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: "rp", ClientSecret: "rp-secret", Endpoint: op.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	back, err := p.LogIn(ctx, client, cfg.AuthCodeURL("st4te", oidc.Nonce("n0nce"), oauth2.S256ChallengeOption(verifier)), "dwho", "dwho")
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Query().Get("state"); got != "st4te" {
		t.Fatalf("state %q in %s", got, back)
	}
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := op.Verifier(&oidc.Config{ClientID: "rp"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if id.Subject == "" || id.Nonce != "n0nce" || claims.Email != "dwho@badwolf.org" || !slices.Contains(claims.Groups, "timelords") {
		t.Fatalf("subject %q nonce %q claims %+v", id.Subject, id.Nonce, claims)
	}
	// A wrong password is refused by the provider.
	jar2, _ := cookiejar.New(nil)
	if _, err := p.LogIn(ctx, &http.Client{Jar: jar2}, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)), "dwho", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
}
