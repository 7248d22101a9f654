#!/usr/bin/env bash
# One-shot solr-init service (official solr image): upload the bundle's configset
# (config/solr/configset, mounted at /configset) to ZooKeeper as "ckan" and create the
# collection "ckan" once (SOLR_SHARDS shards, SOLR_REPLICAS replicas). Idempotent: an
# existing collection is kept, the configset is uploaded again (a changed schema is
# then picked up by RELOAD, which this script asks for).
set -euo pipefail
zk="${ZK_HOST:-zookeeper:2181}"
solr="${SOLR_URL:-http://solr1:8983/solr}"
solr zk upconfig -z "$zk" -n ckan -d /configset
if wget -qO- "$solr/admin/collections?action=LIST&wt=json" | grep -q '"ckan"'; then
    wget -qO- "$solr/admin/collections?action=RELOAD&name=ckan&wt=json" >/dev/null
    echo "collection ckan exists: configset uploaded again, collection reloaded"
else
    wget -qO- "$solr/admin/collections?action=CREATE&name=ckan&collection.configName=ckan&numShards=${SOLR_SHARDS:-1}&replicationFactor=${SOLR_REPLICAS:-2}&wt=json" >/dev/null
    echo "collection ckan created"
fi
