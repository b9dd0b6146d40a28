package web

// Patterns lists the routes New registers for cfg, in the order of
// routes.go: the authorisation test needs a row for each.
func Patterns(cfg Config) []string {
	return append([]string(nil), newServer(cfg).mux.patterns...)
}
