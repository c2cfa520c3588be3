package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func mappingOut(m *patchbay.Mapping) client.Mapping {
	return client.Mapping{ID: m.ID, ConnectionID: m.ConnectionID, ExternalID: m.ExternalID, InternalType: m.InternalType,
		InternalID: m.InternalID, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
}

type listMappingsInput struct {
	ConnectionID string `query:"connection_id"`
	ExternalID   string `query:"external_id" doc:"Look up by the vendor's id."`
	InternalType string `query:"internal_type" doc:"With internal_id, look up by the host platform's record."`
	InternalID   string `query:"internal_id"`
	PageParams
}

func (s *Server) listMappings(ctx context.Context, in *listMappingsInput) (*body[client.List[client.Mapping]], error) {
	if (in.InternalID != "") != (in.InternalType != "") {
		return nil, patchbay.Errorf(patchbay.EINVALID, "internal_type and internal_id go together.")
	}
	list, next, err := s.store.ListMappings(ctx, patchbay.PrincipalFrom(ctx).OrgID, patchbay.MappingFilter{
		ConnectionID: in.ConnectionID, ExternalID: in.ExternalID, InternalType: in.InternalType, InternalID: in.InternalID,
		Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Mapping]{Data: mapSlice(list, mappingOut), NextCursor: next}), nil
}

type createMappingInput struct {
	Body client.MappingRequest
}

func (s *Server) createMapping(ctx context.Context, in *createMappingInput) (*body[client.Mapping], error) {
	m := &patchbay.Mapping{OrgID: patchbay.PrincipalFrom(ctx).OrgID, ConnectionID: in.Body.ConnectionID,
		ExternalID: in.Body.ExternalID, InternalType: in.Body.InternalType, InternalID: in.Body.InternalID}
	if err := s.store.CreateMapping(ctx, m); err != nil {
		return nil, err
	}
	return respond(mappingOut(m)), nil
}

func (s *Server) getMapping(ctx context.Context, in *IDParam) (*body[client.Mapping], error) {
	m, err := s.store.FindMapping(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(mappingOut(m)), nil
}

func (s *Server) deleteMapping(ctx context.Context, in *IDParam) (*struct{}, error) {
	return nil, s.store.DeleteMapping(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
}
