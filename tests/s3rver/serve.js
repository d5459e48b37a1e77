// s3rver on 127.0.0.1 for tests/s3_servers.py: an S3 endpoint that ignores conditional writes.
// s3rver only knows its own S3RVER key pair; the tests' dummy key is registered here so the
// same credentials reach every test server. Prints "listening PORT" once it accepts requests.
'use strict';
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [directory, accessKey, secretKey] = process.argv.slice(2);
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, vhostBuckets: false })
  .run()
  .then(({ port }) => console.log(`listening ${port}`))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
