package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/danielgtaylor/huma/v2"
)

// strictJSON is huma's JSON format with a stricter decoder: a body decoded
// into its input struct may not hold fields the struct lacks, nor anything
// after the JSON value. Bodies that huma validates against their schema
// are refused for either reason before they get here; a route that skips
// that validation (Route.DecodeOnly) relies on this instead.
var strictJSON = huma.Format{
	Marshal: huma.DefaultJSONFormat.Marshal,
	Unmarshal: func(data []byte, v any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return errors.New("unexpected data after the JSON value")
		}
		return nil
	},
}
