package console

import (
	"net/http"

	"pacto/internal/store"
)

// SessionPrincipal is the principal signed in to the console in the
// browser that sent r, by its session cookie; store.ErrNoSession when
// there is none, or it has ended. The API's codec endpoint uses it to
// serve the Temporal Web UI to the person signed in.
func (c *Console) SessionPrincipal(r *http.Request) (store.Principal, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return store.Principal{}, store.ErrNoSession
	}
	return c.store.SessionPrincipal(r.Context(), ck.Value, c.now(), c.sessions)
}
