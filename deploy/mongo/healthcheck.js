// Health check of the mongo service in docker-compose.yml (run by mongosh in the container).
//
// 1. Initiates the single-node replica set the first time (transactions need a replica set).
// 2. Reports healthy only once this node is the writable primary.
// 3. Makes sure each service has its own user, allowed to read and write its own database
//    only (no service can read another's data). Passwords come from the container's
//    environment. An existing user is left as it is: to change a password later, use
//    db.getSiblingDB("admin").changeUserPassword(user, password) as the root user.
//
// Exits non-zero (unhealthy) on any failure, with the reason on stderr.

const replicaSet = process.env.MONGO_REPLICA_SET || "rs0";
const memberHost = process.env.MONGO_REPLICA_HOST || "mongo:27017";
const services = ["journal", "nudges", "sharing"];

const admin = db.getSiblingDB("admin");
admin.auth(process.env.MONGO_INITDB_ROOT_USERNAME, process.env.MONGO_INITDB_ROOT_PASSWORD);

try {
  rs.status();
} catch (err) {
  if (err.codeName !== "NotYetInitialized") {
    throw err;
  }
  rs.initiate({ _id: replicaSet, members: [{ _id: 0, host: memberHost }] });
  print(`initiated replica set ${replicaSet} with member ${memberHost}`);
}

if (!db.hello().isWritablePrimary) {
  print("not primary yet");
  quit(1);
}

for (const service of services) {
  const user = service;
  const database = `flowlearn_${service}`;
  const variable = `MONGO_${service.toUpperCase()}_PASSWORD`;
  const password = process.env[variable];
  if (!password) {
    throw new Error(`${variable} is not set`);
  }
  if (admin.getUser(user) === null) {
    admin.createUser({ user, pwd: password, roles: [{ role: "readWrite", db: database }] });
    print(`created user ${user} (readWrite on ${database})`);
  }
}
