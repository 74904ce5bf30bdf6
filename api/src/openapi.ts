import type { Config } from "./config.js";

const problem = { $ref: "#/components/responses/Problem" };
const jobIdParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "Job id, a lower-case UUIDv7.",
  schema: { type: "string", format: "uuid" },
};

/** Returns the OpenAPI 3.1 description of the HTTP API, served at /openapi.json. */
export function openApiDocument(config: Config): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "Thumbnailer",
      version: "0.1.0",
      description:
        "Upload an image, poll its job, and fetch a thumbnail once the job has succeeded. " +
        "Each upload runs as one Kubernetes Job.",
    },
    paths: {
      "/v1/jobs": {
        post: {
          summary: "Upload an image and start a thumbnail job",
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  required: ["image"],
                  additionalProperties: false,
                  properties: {
                    image: {
                      type: "string",
                      contentMediaType: "application/octet-stream",
                      description: `JPEG, PNG, GIF, WebP, AVIF, TIFF or SVG, at most ${config.maxUploadBytes} bytes.`,
                    },
                    fit: { type: "string", enum: ["contain", "cover", "fill"], default: "contain" },
                  },
                },
              },
            },
          },
          responses: {
            "202": {
              description: "Accepted; the job is processing.",
              headers: { Location: { schema: { type: "string" } } },
              content: { "application/json": { schema: { $ref: "#/components/schemas/Job" } } },
            },
            "400": problem,
            "413": problem,
            "415": problem,
            "429": problem,
            "503": problem,
            "507": problem,
          },
        },
        get: {
          summary: "List jobs, newest first",
          parameters: [
            {
              name: "status",
              in: "query",
              schema: { type: "string", enum: ["processing", "succeeded", "failed"] },
            },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            },
            { name: "cursor", in: "query", schema: { type: "string" } },
          ],
          responses: {
            "200": {
              description: "One page of jobs.",
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      items: { type: "array", items: { $ref: "#/components/schemas/Job" } },
                      nextCursor: { type: ["string", "null"] },
                    },
                  },
                },
              },
            },
            "400": problem,
          },
        },
      },
      "/v1/jobs/{id}": {
        parameters: [jobIdParameter],
        get: {
          summary: "Read a job",
          responses: {
            "200": {
              description: "The job.",
              content: { "application/json": { schema: { $ref: "#/components/schemas/Job" } } },
            },
            "400": problem,
            "404": problem,
          },
        },
        delete: {
          summary: "Delete a job, its thumbnail and its files",
          responses: {
            "204": { description: "The Job is deleted." },
            "400": problem,
            "404": problem,
            "503": problem,
          },
        },
      },
      "/v1/jobs/{id}/thumbnail": {
        parameters: [jobIdParameter],
        get: {
          summary: "Download the thumbnail of a succeeded job",
          responses: {
            "200": {
              description: "The thumbnail: PNG, or GIF or WebP for animations.",
              headers: { ETag: { schema: { type: "string" } } },
              content: { "image/png": {}, "image/gif": {}, "image/webp": {} },
            },
            "304": { description: "Not modified." },
            "400": problem,
            "404": problem,
            "409": problem,
          },
        },
      },
      "/healthz": {
        get: { summary: "Liveness", responses: { "200": { description: "Serving." } } },
      },
      "/readyz": {
        get: {
          summary: "Readiness: caches synced and volume writable",
          responses: {
            "200": { description: "Ready." },
            "503": { description: "Not ready; the body names the failing check." },
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: { "200": { description: "Text format." } },
        },
      },
    },
    components: {
      responses: {
        Problem: {
          description: "An error, as RFC 9457 problem details.",
          content: {
            "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
          },
        },
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status", "detail"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            jobId: { type: "string" },
          },
        },
        Job: {
          type: "object",
          required: ["id", "status", "stage", "createdAt", "attempts"],
          properties: {
            id: { type: "string" },
            status: { type: "string", enum: ["processing", "succeeded", "failed"] },
            stage: {
              type: "string",
              enum: ["queued", "pending", "running", "succeeded", "failed"],
            },
            queuePosition: {
              type: "integer",
              description: "1 for the next job to run; only while queued.",
            },
            createdAt: { type: ["string", "null"], format: "date-time" },
            startedAt: { type: ["string", "null"], format: "date-time" },
            finishedAt: { type: ["string", "null"], format: "date-time" },
            attempts: { type: "integer" },
            original: {
              type: ["object", "null"],
              properties: {
                filename: { type: "string" },
                contentType: { type: "string" },
                bytes: { type: "integer" },
              },
            },
            thumbnail: {
              type: "object",
              properties: {
                url: { type: "string" },
                contentType: { type: "string" },
                width: { type: "integer" },
                height: { type: "integer" },
                bytes: { type: "integer" },
              },
            },
            error: {
              type: "object",
              properties: { reason: { type: "string" }, message: { type: "string" } },
            },
          },
        },
      },
    },
  };
}
