package eventgen

import (
	"cmp"
	"net/url"
	"strings"
	"time"
)

// s3Records is events.S3Event.
type s3Records struct {
	Records []s3Record `json:"Records"`
}

// s3Record is events.S3EventRecord, keys in AWS's order.
type s3Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      s3Principal       `json:"userIdentity"`
	RequestParameters s3RequestParams   `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
}

type s3Principal struct {
	PrincipalID string `json:"principalId"`
}

type s3RequestParams struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

type s3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          s3Bucket `json:"bucket"`
	Object          s3Object `json:"object"`
}

type s3Bucket struct {
	Name          string      `json:"name"`
	OwnerIdentity s3Principal `json:"ownerIdentity"`
	Arn           string      `json:"arn"`
}

type s3Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag"`
	Sequencer string `json:"sequencer"`
}

// s3PutEvent is the notification of an object written with PutObject. The ids, size and ETag are
// the AWS documentation's sample values.
func s3PutEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	bucket := cmp.Or(o.Bucket, "amzn-s3-demo-bucket")
	return s3Records{Records: []s3Record{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         w.region,
		EventTime:         now.Format(isoMillis),
		EventName:         "ObjectCreated:Put",
		UserIdentity:      s3Principal{PrincipalID: "AWS:AIDAINPONIXQXHT3IKHL2"},
		RequestParameters: s3RequestParams{SourceIPAddress: sourceIP},
		ResponseElements: map[string]string{
			"x-amz-request-id": "D82B88E5F771F645",
			"x-amz-id-2":       "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=",
		},
		S3: s3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "828aa6fc-f7b5-4305-8584-487c791949c1",
			Bucket: s3Bucket{
				Name:          bucket,
				OwnerIdentity: s3Principal{PrincipalID: "A3I5XTEXAMAI3E"},
				Arn:           "arn:" + w.partition + ":s3:::" + bucket,
			},
			Object: s3Object{
				Key:       s3Key(cmp.Or(o.Key, "test/key")),
				Size:      1024,
				ETag:      "0123456789abcdef0123456789abcdef",
				Sequencer: "0A1B2C3D4E5F678901",
			},
		},
	}}}, nil
}

// s3Key encodes a key as S3 notifications do: form-encoded (a space is +), slashes kept. Handlers
// must decode it (url.QueryUnescape), and a sample key with a space shows why.
func s3Key(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}
