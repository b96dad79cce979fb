// Prints the SQL that installs livegive's GIN indexes on FerretDB's PostgreSQL tables (scripts/stack pipes it to psql).
import { ferretdbGinSql } from '../../src/infra/ferretdb-indexes';

process.stdout.write(ferretdbGinSql());
