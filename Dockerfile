# pushsim in a container, for docs/deploy.md's compose.yaml: one static
# binary (pure Go, SQLite included), nothing else in the image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /pushsim ./cmd/pushsim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /pushsim /pushsim
EXPOSE 4010
ENTRYPOINT ["/pushsim"]
