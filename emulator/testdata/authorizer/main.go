// Command authorizer is a test Lambda authorizer for every kind API Gateway calls: REST TOKEN
// and REQUEST authorizers, and HTTP API authorizers in payload 1.0 and 2.0. The identity decides
// the answer: a token starting "allow" gives an IAM policy allowing the method's ARN (or "*"
// for one starting "allow-all", or the ARN with its last path segment as "?" wildcards for one
// starting "allow-wild"), "deny" one denying it, "yes" and "no" a simple response, "error" an
// error, "unauthorized" the "Unauthorized" error, "bad" an answer of the wrong shape, "slow"
// sleeps past its timeout. Each call prints one line, so tests can count calls.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Version            string          `json:"version"`
	Type               string          `json:"type"`
	AuthorizationToken string          `json:"authorizationToken"`
	MethodArn          string          `json:"methodArn"`
	RouteArn           string          `json:"routeArn"`
	IdentitySource     json.RawMessage `json:"identitySource"`
	Headers            map[string]string
	QueryStrings       map[string]string `json:"queryStringParameters"`
}

func handler(_ context.Context, raw json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	token := ev.AuthorizationToken
	if token == "" {
		for k, v := range ev.Headers {
			if strings.EqualFold(k, "authorization") {
				token = v
			}
		}
	}
	if token == "" {
		token = ev.QueryStrings["token"]
	}
	token = strings.TrimPrefix(token, "Bearer ")
	arn := ev.MethodArn + ev.RouteArn
	fmt.Printf("authorizer called: type=%s version=%s token=%s arn=%s\n", ev.Type, ev.Version, token, arn)
	policy := func(effect, resource string) events.APIGatewayCustomAuthorizerResponse {
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: "user-" + token,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Version:   "2012-10-17",
				Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{resource}}},
			},
			Context: map[string]any{"user": token, "level": 3, "admin": false},
		}
	}
	switch {
	case strings.HasPrefix(token, "allow-all"):
		return policy("Allow", "*"), nil
	case strings.HasPrefix(token, "allow-wild"):
		i := strings.LastIndex(arn, "/")
		return policy("Allow", arn[:i+1]+strings.Repeat("?", len(arn)-i-1)), nil
	case strings.HasPrefix(token, "allow"):
		return policy("Allow", arn), nil
	}
	switch token {
	case "slow":
		time.Sleep(3 * time.Second)
		return policy("Allow", arn), nil
	case "deny":
		return policy("Deny", arn), nil
	case "yes":
		return map[string]any{"isAuthorized": true, "context": map[string]any{"user": token}}, nil
	case "no":
		return map[string]any{"isAuthorized": false}, nil
	case "unauthorized":
		return nil, errors.New("Unauthorized")
	case "bad":
		return map[string]any{"hello": "world"}, nil
	}
	return nil, errors.New("authorizer failed on " + token)
}

func main() {
	lambda.Start(handler)
}
