package fakevendor

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/patchbay/patchbay"
)

// PaymentSlug is the slug of a payment-family twin of the fake vendor, for
// tests of the capability payment connectors need.
const PaymentSlug = "fakepay"

// WriteCatalog writes this vendor's connector files into dir, for
// Patchbay's --connectors-dir: "fakevendor" and its payment-family twin
// "fakepay".
func (v *Vendor) WriteCatalog(dir string) error {
	pay := v.Connector()
	pay.Slug, pay.Name, pay.Family = PaymentSlug, "Fake Pay", patchbay.FamilyPayment
	for _, c := range []patchbay.Connector{v.Connector(), pay} {
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c.Slug+".json"), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
