/// The HTTP API as an OpenAPI 3.1 document, served at `GET /openapi.json` and printed by `duet openapi`.
/// A test checks that every registered route is described here and that real responses validate.
public enum OpenAPIDocument {
    public static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Duet",
    "version": "0.1.0",
    "description": "Online-learning recommender with a built-in A/B router. Admin routes need `Authorization: Bearer <token>`."
  },
  "paths": {
    "/": {"get": {"summary": "Status page (HTML)", "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "Process is up", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
    "/readyz": {"get": {"summary": "Readiness: models loaded", "responses": {
      "200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
      "503": {"description": "Not ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/v1/recommend": {"post": {
      "summary": "Rank items for a user in an experiment",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecommendRequest"}}}},
      "responses": {
        "200": {"description": "Ranked items", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecommendResponse"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
    "/v1/feedback": {"post": {
      "summary": "Report the outcome of a recommended item; trains the online model",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeedbackRequest"}}}},
      "responses": {
        "200": {"description": "Accepted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeedbackResponse"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
        "410": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "503": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/models": {"get": {"summary": "Model slots and their versions", "security": [{"bearer": []}],
      "responses": {"200": {"description": "Slots", "content": {"application/json": {"schema": {"type": "object", "required": ["slots"], "properties": {"slots": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}}}}}}},
        "401": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/models/{slot}": {"get": {"summary": "One slot", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/slot"}],
      "responses": {"200": {"description": "Slot", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Slot"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/models/{slot}/rollback": {"post": {"summary": "Make an earlier version current (default: the previous one)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/slot"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"to": {"type": "string"}}, "additionalProperties": false}}}},
      "responses": {"200": {"description": "Swapped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Swap"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/models/{slot}/promote": {"post": {"summary": "Make a kept version current", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/slot"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}, "additionalProperties": false}}}},
      "responses": {"200": {"description": "Swapped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Swap"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/experiments": {
      "get": {"summary": "Live experiments with their revision, split and SRM", "security": [{"bearer": []}],
        "responses": {"200": {"description": "Experiments", "content": {"application/json": {"schema": {"type": "object", "required": ["experiments"], "properties": {"experiments": {"type": "array", "items": {"$ref": "#/components/schemas/ExperimentState"}}}}}}},
          "401": {"$ref": "#/components/responses/Error"}}},
      "put": {"summary": "Apply several experiment configs at once: all or none", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["configs"], "properties": {"configs": {"type": "array", "items": {"type": "object", "required": ["file", "yaml"], "properties": {"file": {"type": "string"}, "yaml": {"type": "string"}}}}}}}}},
        "responses": {"200": {"description": "Applied", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Applied"}}}},
          "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/experiments/{key}": {
      "get": {"summary": "One live experiment", "security": [{"bearer": []}], "parameters": [{"$ref": "#/components/parameters/key"}],
        "responses": {"200": {"description": "Experiment", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExperimentState"}}}},
          "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
      "put": {"summary": "Apply one experiment config (YAML or JSON body)", "security": [{"bearer": []}], "parameters": [{"$ref": "#/components/parameters/key"}],
        "requestBody": {"required": true, "content": {"application/yaml": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "Applied", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Applied"}}}},
          "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/experiments/{key}/history": {"get": {"summary": "Every revision of an experiment", "security": [{"bearer": []}], "parameters": [{"$ref": "#/components/parameters/key"}],
      "responses": {"200": {"description": "Revisions", "content": {"application/json": {"schema": {"type": "object", "required": ["revisions"], "properties": {"revisions": {"type": "array", "items": {"$ref": "#/components/schemas/Revision"}}}}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/experiments/{key}/revert": {"post": {"summary": "Re-apply an earlier revision (default: the one before the live one)", "security": [{"bearer": []}], "parameters": [{"$ref": "#/components/parameters/key"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"to": {"type": "integer"}}, "additionalProperties": false}}}},
      "responses": {"200": {"description": "Reverted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Applied"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/experiments/{key}/report": {"get": {"summary": "Per-arm requests, clicks, CTR with 95% interval, log loss, SRM, differences", "security": [{"bearer": []}], "parameters": [{"$ref": "#/components/parameters/key"}],
      "responses": {"200": {"description": "Report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/admin/audit": {"get": {"summary": "Audit log, newest first", "security": [{"bearer": []}],
      "parameters": [{"name": "since", "in": "query", "required": false, "schema": {"type": "number"}, "description": "Seconds since 1970"},
                     {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}}],
      "responses": {"200": {"description": "Rows", "content": {"application/json": {"schema": {"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}}
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "slot": {"name": "slot", "in": "path", "required": true, "schema": {"type": "string"}},
      "key": {"name": "key", "in": "path", "required": true, "schema": {"type": "string"}}
    },
    "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    "schemas": {
      "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}, "details": {"type": "array", "items": {"type": "string"}}}}}},
      "RecommendRequest": {"type": "object", "required": ["experiment", "user"], "additionalProperties": false, "properties": {
        "experiment": {"type": "string"}, "user": {"type": "string", "minLength": 1},
        "candidates": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Item ids; absent ranks the whole item catalog"},
        "k": {"type": "integer", "minimum": 1, "description": "How many items to return (default 10)"},
        "context": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}}},
      "RecommendResponse": {"type": "object", "required": ["request_id", "experiment", "arm", "in_experiment", "model", "feature_version", "features_degraded", "items"], "properties": {
        "request_id": {"type": "string"}, "experiment": {"type": "string"}, "arm": {"type": "string"}, "in_experiment": {"type": "boolean"},
        "model": {"type": "object", "required": ["slot", "version"], "properties": {"slot": {"type": "string"}, "version": {"type": "string"}}},
        "feature_version": {"type": "string"}, "features_degraded": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "object", "required": ["id", "score"], "properties": {"id": {"type": "string"}, "score": {"type": "number"}}}}}},
      "FeedbackRequest": {"type": "object", "required": ["request_id", "item", "label"], "additionalProperties": false, "properties": {
        "request_id": {"type": "string"}, "item": {"type": "string"}, "label": {"type": "number", "minimum": 0, "maximum": 1}}},
      "FeedbackResponse": {"type": "object", "required": ["accepted", "experiment", "arm"], "properties": {
        "accepted": {"type": "boolean"}, "experiment": {"type": "string"}, "arm": {"type": "string"}}},
      "Version": {"type": "object", "required": ["id", "kind", "created_at", "examples", "current"], "properties": {
        "id": {"type": "string"}, "parent_id": {"type": ["string", "null"]}, "kind": {"type": "string"}, "created_at": {"type": "number"},
        "examples": {"type": "integer"}, "logloss": {"type": ["number", "null"]}, "auc": {"type": ["number", "null"]}, "current": {"type": "boolean"}}},
      "Slot": {"type": "object", "required": ["slot", "versions"], "properties": {
        "slot": {"type": "string"}, "current": {"type": ["string", "null"]}, "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}}}},
      "Swap": {"type": "object", "required": ["slot", "from", "to", "swap_seconds"], "properties": {
        "slot": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}, "swap_seconds": {"type": "number"}}},
      "ExperimentState": {"type": "object", "required": ["key", "revision", "status", "arms", "srm_p_value"], "properties": {
        "key": {"type": "string"}, "revision": {"type": "integer"}, "status": {"type": "string"}, "srm_p_value": {"type": "number"}, "yaml": {"type": "string"},
        "arms": {"type": "array", "items": {"type": "object", "required": ["name", "weight", "model", "assigned"], "properties": {
          "name": {"type": "string"}, "weight": {"type": "number"}, "model": {"type": "string"}, "assigned": {"type": "integer"}}}}}},
      "Applied": {"type": "object", "required": ["applied"], "properties": {"applied": {"type": "array", "items": {"type": "object", "required": ["key", "revision"], "properties": {"key": {"type": "string"}, "revision": {"type": "integer"}}}}}},
      "Revision": {"type": "object", "required": ["revision", "author", "created_at", "yaml"], "properties": {
        "revision": {"type": "integer"}, "author": {"type": "string"}, "created_at": {"type": "number"}, "yaml": {"type": "string"}, "reverted_from": {"type": ["integer", "null"]}}},
      "Report": {"type": "object", "required": ["experiment", "srm_p_value", "arms"], "properties": {
        "experiment": {"type": "string"}, "srm_p_value": {"type": "number"},
        "arms": {"type": "array", "items": {"type": "object", "required": ["arm", "requests", "feedback", "clicks", "ctr", "ctr_low", "ctr_high"], "properties": {
          "arm": {"type": "string"}, "model": {"type": "string"}, "requests": {"type": "integer"}, "feedback": {"type": "integer"}, "clicks": {"type": "integer"},
          "ctr": {"type": "number"}, "ctr_low": {"type": "number"}, "ctr_high": {"type": "number"}, "logloss": {"type": ["number", "null"]}, "versions": {"type": "integer"}}}},
        "differences": {"type": "array", "items": {"type": "object", "required": ["arm", "baseline", "difference", "low", "high"], "properties": {
          "arm": {"type": "string"}, "baseline": {"type": "string"}, "difference": {"type": "number"}, "low": {"type": "number"}, "high": {"type": "number"}}}}}},
      "AuditEntry": {"type": "object", "required": ["at", "actor", "action", "target"], "properties": {
        "id": {"type": "integer"}, "at": {"type": "number"}, "actor": {"type": "string"}, "action": {"type": "string"}, "target": {"type": "string"},
        "before": {"type": ["string", "null"]}, "after": {"type": ["string", "null"]}}}
    }
  }
}
"""#
}
