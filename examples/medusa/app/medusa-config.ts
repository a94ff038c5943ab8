// Medusa configuration for simlive's example shop (examples/medusa/shop.py writes nothing here;
// everything comes from the environment shop.py sets).
//
//   DATABASE_URL               postgres://... of the throwaway cluster (required)
//   SIMLIVE_MEDUSA_LOCKING     "memory" (default: Medusa's in-process locking provider) or
//                              "postgres" (advisory locks shared by every node process).
//                              With `medusa start --cluster N` (shop.py serve --cluster N)
//                              in-process locks guard nothing across the N processes.
//   SIMLIVE_MEDUSA_DB_POOL_MAX knex pool size per node process (unset: Medusa's default)
//   SIMLIVE_MEDUSA_SECRET      JWT and cookie secret (a throwaway default for 127.0.0.1)
import { defineConfig } from "@medusajs/framework/utils"

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  throw new Error("DATABASE_URL is not set (examples/medusa/shop.py sets it)")
}
const secret = process.env.SIMLIVE_MEDUSA_SECRET || "simlive-local-only"
const poolMax = Number(process.env.SIMLIVE_MEDUSA_DB_POOL_MAX || 0)
const locking = process.env.SIMLIVE_MEDUSA_LOCKING || "memory"
if (locking !== "memory" && locking !== "postgres") {
  throw new Error(`SIMLIVE_MEDUSA_LOCKING must be memory or postgres, not ${locking}`)
}
const local = "http://127.0.0.1,http://localhost"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl,
    // no redisUrl: in-memory event bus, cache and workflow engine (one machine, one test)
    databaseDriverOptions: poolMax > 0 ? { pool: { min: 0, max: poolMax } } : {},
    http: {
      storeCors: local,
      adminCors: local,
      authCors: local,
      jwtSecret: secret,
      cookieSecret: secret,
    },
  },
  admin: { disable: true }, // REST API only: no dashboard build
  modules:
    locking === "postgres"
      ? [
          {
            resolve: "@medusajs/medusa/locking",
            options: {
              providers: [
                {
                  resolve: "@medusajs/medusa/locking-postgres",
                  id: "locking-postgres",
                  is_default: true,
                },
              ],
            },
          },
        ]
      : [],
})
