package web

import (
	"embed"
	"net/http"

	"github.com/rempart/rempart"
)

//go:embed assets
var assetFS embed.FS

var errNotFound = rempart.Errorf(rempart.ENOTFOUND, "There is no such page.")

type homePage struct {
	view
	Caller rempart.Caller
}

// home shows who is signed in and where they can go.
func (s *server) home(w http.ResponseWriter, r *http.Request, v *visit) error {
	s.render(w, r, http.StatusOK, "home", homePage{view: s.view(r, v, "Home", "home"), Caller: v.caller})
	return nil
}
