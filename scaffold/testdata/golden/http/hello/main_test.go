package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		name        string
		req         events.APIGatewayV2HTTPRequest
		wantMessage string
	}{
		{"name", events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"name": "world"}}, "Hello, world!"},
		{"greeting", events.APIGatewayV2HTTPRequest{
			PathParameters:        map[string]string{"name": "world"},
			QueryStringParameters: map[string]string{"greeting": "Hi"},
		}, "Hi, world!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.RequestContext.RequestID = "req-1"
			resp, err := handler(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got greeting
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", resp.Body, err)
			}
			if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" || got.Message != tt.wantMessage || got.RequestID != "req-1" {
				t.Errorf("handler = %d %v %+v, want 200 application/json %q", resp.StatusCode, resp.Headers, got, tt.wantMessage)
			}
		})
	}
}
