// Boots GraphiQL against this server's /graphql: queries and mutations over HTTP,
// subscriptions over graphql-ws on the same path. React, GraphiQL and graphql-ws are the
// globals the server's /playground/static/ scripts define (no CDN).
(function () {
  "use strict";

  var endpoint = window.location.origin + "/graphql";
  var socketUrl = endpoint.replace(/^http/, "ws");
  var examples = JSON.parse(document.getElementById("frontline-examples").textContent);
  var httpFetcher = GraphiQL.createFetcher({ url: endpoint });

  function isSubscription(params) {
    var document;
    try {
      document = GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      return false; // let the server report the syntax error
    }
    return document.definitions.some(function (definition) {
      return (
        definition.kind === "OperationDefinition" &&
        definition.operation === "subscription" &&
        (!params.operationName ||
          (definition.name && definition.name.value === params.operationName))
      );
    });
  }

  // One WebSocket per header set: browsers can't set headers on a WebSocket, so the Headers
  // editor's object (e.g. {"Authorization": "Bearer <key>"}) goes in connection_init.
  var sockets = {};
  function socketFor(headers) {
    var key = JSON.stringify(headers || {});
    if (!sockets[key]) {
      sockets[key] = graphqlWs.createClient({
        url: socketUrl,
        lazy: true,
        connectionParams: headers || {},
      });
    }
    return sockets[key];
  }

  function subscribe(params, headers) {
    // An Observable, which GraphiQL renders result by result.
    return {
      subscribe: function (observer) {
        var dispose = socketFor(headers).subscribe(params, {
          next: function (value) { observer.next(value); },
          error: function (error) {
            observer.error(error instanceof Error ? error : new Error(describe(error)));
          },
          complete: function () { observer.complete(); },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  function describe(error) {
    if (error && error.code) {
      return "WebSocket closed: " + error.code + " " + (error.reason || "");
    }
    return Array.isArray(error) ? JSON.stringify(error) : String(error);
  }

  function fetcher(params, options) {
    if (isSubscription(params)) {
      return subscribe(params, options && options.headers);
    }
    return httpFetcher(params, options);
  }

  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: examples.map(function (example) { return { query: example.query }; }),
      defaultQuery: examples.length ? examples[0].query : undefined,
      isHeadersEditorEnabled: true,
      // API keys stay out of localStorage unless the user chooses otherwise.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    }),
    document.getElementById("graphiql")
  );
})();
