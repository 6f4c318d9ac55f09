// Calls a webhook as kube-apiserver's Go client does: crypto/tls trusting only the caBundle,
// the server name checked against the certificate, a JSON POST. Prints one line with the
// status, TLS version and cipher suite, then the body. Exit 1 on any failure.
//
//	go-webhook-client -ca ca.crt -servername svc.ns.svc -body review.json https://127.0.0.1:8443/path
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

var versions = map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	caFile := flag.String("ca", "", "CA bundle (PEM), the only roots trusted")
	serverName := flag.String("servername", "", "name the certificate must be valid for")
	bodyFile := flag.String("body", "", "file to POST as application/json")
	flag.Parse()
	if flag.NArg() != 1 || *caFile == "" || *bodyFile == "" {
		fail("usage: go-webhook-client -ca FILE [-servername NAME] -body FILE URL")
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		fail("%v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		fail("%s: no certificate", *caFile)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fail("%v", err)
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: *serverName, MinVersion: tls.VersionTLS12},
		},
	}
	response, err := client.Post(flag.Arg(0), "application/json", bytes.NewReader(body))
	if err != nil {
		fail("%v", err)
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(response.Body)
	if err != nil {
		fail("%v", err)
	}
	state := response.TLS
	fmt.Printf("%d %s %s\n%s", response.StatusCode, versions[state.Version], tls.CipherSuiteName(state.CipherSuite), answer)
}
