#!/bin/sh
# gen.sh DIR: a CA, a server certificate for 127.0.0.1 and a client certificate.
set -e
d=$1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout $d/ca.key -out $d/ca.crt -subj /CN=test-k8s-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout $d/server.key -out $d/server.csr -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > $d/san.ext
openssl x509 -req -in $d/server.csr -CA $d/ca.crt -CAkey $d/ca.key -CAcreateserial \
  -days 2 -extfile $d/san.ext -out $d/server.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout $d/client.key -out $d/client.csr -subj /CN=system:clustergate 2>/dev/null
openssl x509 -req -in $d/client.csr -CA $d/ca.crt -CAkey $d/ca.key -CAcreateserial \
  -days 2 -out $d/client.crt 2>/dev/null
