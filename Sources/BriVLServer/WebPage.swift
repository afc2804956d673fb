/// The single page served at `/`: a search box, an image drop zone (or file picker) for image→image search, and a
/// grid of results with their scores. It only uses the public API, so it doubles as its example client.
///
/// `/?q=海边的日落` runs that query on load (shareable links, and what the headless-browser test loads);
/// `?access_token=…` is forwarded to the API as a bearer token when the server requires one.
enum WebPage {
    static let html = #"""
        <!doctype html>
        <html lang="zh">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>BriVL search</title>
        <style>
          :root { font-family: system-ui, "Noto Sans CJK SC", sans-serif; color: #1d1d1f; background: #fafafa; }
          body { max-width: 1100px; margin: 0 auto; padding: 24px; }
          h1 { font-size: 22px; font-weight: 600; margin: 0 0 16px; }
          form { display: flex; gap: 8px; }
          input[type=search] { flex: 1; font-size: 17px; padding: 10px 12px; border: 1px solid #c7c7cc; border-radius: 8px; }
          button { font-size: 16px; padding: 10px 18px; border: 0; border-radius: 8px; background: #0a66d8; color: white; cursor: pointer; }
          #drop { margin: 12px 0; padding: 14px; border: 2px dashed #c7c7cc; border-radius: 8px; text-align: center; color: #6e6e73; cursor: pointer; }
          #drop.over { border-color: #0a66d8; color: #0a66d8; }
          #status { min-height: 20px; color: #6e6e73; font-size: 14px; margin: 8px 0; }
          #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
          .result { margin: 0; background: white; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
          .result img { width: 100%; aspect-ratio: 1; object-fit: cover; display: block; background: #eee; }
          .result figcaption { padding: 6px 8px; font-size: 12px; overflow-wrap: anywhere; }
          .score { font-weight: 600; color: #0a66d8; }
        </style>
        </head>
        <body>
        <h1>BriVL 图文检索 · cross-modal search</h1>
        <form id="search">
          <input type="search" id="query" name="q" placeholder="描述你要找的图片，例如：海边的日落" autofocus>
          <button type="submit">搜索</button>
        </form>
        <div id="drop">拖入一张图片以图搜图，或点击选择文件 · drop an image here or click to choose one
          <input type="file" id="file" accept="image/jpeg,image/png,image/webp" hidden>
        </div>
        <div id="status"></div>
        <div id="results"></div>
        <script>
        const params = new URLSearchParams(location.search);
        const token = params.get("access_token");
        const headers = token ? { "Authorization": "Bearer " + token } : {};
        const status = document.getElementById("status");
        const grid = document.getElementById("results");

        function render(answer) {
          grid.replaceChildren();
          for (const hit of answer.results) {
            const figure = document.createElement("figure");
            figure.className = "result";
            const image = document.createElement("img");
            image.loading = "lazy";
            image.alt = hit.path;
            image.src = hit.thumbnail + (token ? "&access_token=" + encodeURIComponent(token) : "");
            const caption = document.createElement("figcaption");
            const score = document.createElement("span");
            score.className = "score";
            score.textContent = hit.score.toFixed(3);
            caption.append(score, " " + hit.path);
            figure.append(image, caption);
            grid.append(figure);
          }
          status.textContent = answer.results.length + " results in " + answer.took_ms.toFixed(1) + " ms";
        }

        async function search(body, contentType) {
          status.textContent = "searching…";
          try {
            const response = await fetch("/v1/search?k=24", {
              method: "POST", body, headers: { ...headers, "Content-Type": contentType } });
            const answer = await response.json();
            if (!response.ok) { status.textContent = "error: " + answer.error; return; }
            render(answer);
          } catch (error) {
            status.textContent = "error: " + error;
          }
        }

        function searchText(text) {
          if (text.trim()) search(JSON.stringify({ text, k: 24 }), "application/json");
        }

        function searchImage(file) {
          if (file) search(file, file.type || "application/octet-stream");
        }

        document.getElementById("search").addEventListener("submit", (event) => {
          event.preventDefault();
          const text = document.getElementById("query").value;
          history.replaceState(null, "", "?" + new URLSearchParams({ q: text, ...(token ? { access_token: token } : {}) }));
          searchText(text);
        });
        const drop = document.getElementById("drop");
        const picker = document.getElementById("file");
        drop.addEventListener("click", () => picker.click());
        picker.addEventListener("change", () => searchImage(picker.files[0]));
        drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
        drop.addEventListener("dragleave", () => drop.classList.remove("over"));
        drop.addEventListener("drop", (event) => {
          event.preventDefault();
          drop.classList.remove("over");
          searchImage(event.dataTransfer.files[0]);
        });
        if (params.get("q")) {
          document.getElementById("query").value = params.get("q");
          searchText(params.get("q"));
        }
        </script>
        </body>
        </html>
        """#
}
