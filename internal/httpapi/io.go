package httpapi

import "github.com/patchbay/patchbay"

// Shared input and output shapes of the handlers.

// PageParams are the paging query parameters every list takes. (Exported
// because huma reads parameters only from exported embedded structs.)
type PageParams struct {
	Cursor string `query:"cursor" doc:"Cursor from a previous page's next_cursor."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Rows per page."`
}

func (p PageParams) page() patchbay.Page { return patchbay.Page{Cursor: p.Cursor, Limit: p.Limit} }

// IDParam is the path parameter of routes that address one row.
type IDParam struct {
	ID string `path:"id" maxLength:"100"`
}

// body wraps a response body.
type body[T any] struct {
	Body T
}

func respond[T any](v T) *body[T] { return &body[T]{Body: v} }
