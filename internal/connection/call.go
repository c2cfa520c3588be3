package connection

import (
	"context"
	"net/http"

	"github.com/patchbay/patchbay"
)

// ErrPaused is returned by Do for a paused connection: calls over it wait
// (deliveries are held) until it is resumed.
var ErrPaused = patchbay.Errorf(patchbay.ECONFLICT, "The connection is paused.")

// Do calls the vendor's API over a connection of an org: the credential is
// refreshed first when due and attached as the connector declares. The
// caller closes the response body.
func (s *Service) Do(ctx context.Context, orgID, id, method, path string, body []byte) (*http.Response, error) {
	c, err := s.store.FindConnection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if c.State == patchbay.StatePaused {
		return nil, ErrPaused
	}
	cn, err := s.connector(c.ConnectorSlug)
	if err != nil {
		return nil, err
	}
	c, cred, err := s.credentialFor(ctx, c, s.RefreshSkew, false)
	if err != nil {
		return nil, err
	}
	req, err := newVendorRequest(ctx, cn, c, cred, method, path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.client.Do(req)
}
